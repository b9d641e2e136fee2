package device

import "time"

// Why the device last started (`display version`: Last reboot reason).
const (
	RebootCold = "Cold reboot" // the daemon started without a `reboot` before it
	RebootUser = "User reboot" // `reboot` restarted it
)

// Resources is what `display cpu-usage` and `display memory` show: the
// box's whole CPU and memory, as Linux counts them.
type Resources struct {
	CPU    CPUUsage    `json:"cpu"`
	Memory MemoryUsage `json:"memory"`
}

// CPUUsage is the busy share of all CPUs, in percent, over the last 5
// seconds, 1 minute and 5 minutes (shorter while the device is younger).
type CPUUsage struct {
	Last5Sec int `json:"last_5s"`
	Last1Min int `json:"last_1m"`
	Last5Min int `json:"last_5m"`
}

// MemoryUsage is /proc/meminfo in KB.
type MemoryUsage struct {
	Total     uint64 `json:"total"`
	Free      uint64 `json:"free"`
	Shared    uint64 `json:"shared"`
	Buffers   uint64 `json:"buffers"`
	Cached    uint64 `json:"cached"`
	SwapTotal uint64 `json:"swap_total"`
	SwapFree  uint64 `json:"swap_free"`
}

// Used is the memory not free.
func (m MemoryUsage) Used() uint64 { return sub(m.Total, m.Free) }

// SwapUsed is the swap space in use.
func (m MemoryUsage) SwapUsed() uint64 { return sub(m.SwapTotal, m.SwapFree) }

func sub(a, b uint64) uint64 {
	if b > a {
		return 0
	}
	return a - b
}

// FlashFile is one entry of flash:'s top directory (`dir`).
type FlashFile struct {
	Name string    `json:"name"`
	Dir  bool      `json:"dir"`
	Size int64     `json:"size"` // bytes; 0 for a directory
	Time time.Time `json:"time"` // last modified
}

// FlashListing is `dir`: the files, sorted by name, and the file system's
// size and free space in bytes.
type FlashListing struct {
	Files []FlashFile `json:"files"`
	Total uint64      `json:"total"`
	Free  uint64      `json:"free"`
}

// StartupInfo is `display startup`: the configuration file this boot
// loaded and the one the next boot loads, as bare names on flash:
// ("startup.cfg"); "" when there is none (the factory configuration).
type StartupInfo struct {
	Current string `json:"current"`
	Next    string `json:"next"`
}
