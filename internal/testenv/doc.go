// Package testenv tells tests where the real services they need are:
// PostgreSQL and Redis, named by environment variables.
//
// A test that needs a service asks for its URL:
//
//	dsn := testenv.PostgresURL(t)
//
// When the variable is unset the test is skipped with a message naming the
// variable to set. With PUNCHBRIDGE_REQUIRE_SERVICES=1, as CI sets it, the
// test fails instead, so that a misconfigured CI cannot pass by skipping.
package testenv
