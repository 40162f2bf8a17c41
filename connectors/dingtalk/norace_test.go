//go:build !race

package dingtalk

// raceEnabled: see race_test.go.
const raceEnabled = false
