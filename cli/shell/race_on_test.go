//go:build race

package shell

// raceEnabled: the race detector reports races inside readline's resize
// handling, so the interactive (readline) tests are skipped under -race.
const raceEnabled = true
