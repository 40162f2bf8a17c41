package testenv

import (
	"fmt"
	"os"
	"strconv"
	"testing"
)

// The variables that name the services.
const (
	PostgresVar = "PUNCHBRIDGE_TEST_POSTGRES_URL"
	RedisVar    = "PUNCHBRIDGE_TEST_REDIS_URL"
	RequireVar  = "PUNCHBRIDGE_REQUIRE_SERVICES"
)

// PostgresURL returns the PostgreSQL URL tests may use, or skips (or, when
// services are required, fails) the test if none is configured.
func PostgresURL(t testing.TB) string {
	t.Helper()
	return serviceURL(t, "PostgreSQL", PostgresVar, "postgres://postgres@127.0.0.1:5432/test?sslmode=disable")
}

// RedisURL returns the Redis URL tests may use, or skips (or, when
// services are required, fails) the test if none is configured.
func RedisURL(t testing.TB) string {
	t.Helper()
	return serviceURL(t, "Redis", RedisVar, "redis://127.0.0.1:6379/0")
}

func serviceURL(t testing.TB, service, name, example string) string {
	t.Helper()
	if u := os.Getenv(name); u != "" {
		return u
	}
	required, err := servicesRequired()
	switch {
	case err != nil:
		t.Fatal(err)
	case required:
		t.Fatalf("%s=1 but %s is not set; set it to a %s URL, e.g. %s", RequireVar, name, service, example)
	default:
		t.Skipf("needs %s: set %s to a %s URL, e.g. %s", service, name, service, example)
	}
	return ""
}

// servicesRequired reads PUNCHBRIDGE_REQUIRE_SERVICES: unset or empty is
// false, otherwise it must be a boolean.
func servicesRequired() (bool, error) {
	v := os.Getenv(RequireVar)
	if v == "" {
		return false, nil
	}
	b, err := strconv.ParseBool(v)
	if err != nil {
		return false, fmt.Errorf("%s=%q is not a boolean; set it to 1 to require the services or leave it unset", RequireVar, v)
	}
	return b, nil
}
