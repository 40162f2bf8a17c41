//go:build race

package dingtalk

// raceEnabled: the race detector slows CPU-bound code several times over,
// so wall-clock budgets are measured only in normal builds.
const raceEnabled = true
