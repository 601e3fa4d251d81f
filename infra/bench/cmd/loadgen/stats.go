package main

import (
	"math"
	"os"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Dist is a latency distribution in milliseconds.
type Dist struct {
	N    int     `json:"n"`
	Mean float64 `json:"mean"`
	P50  float64 `json:"p50"`
	P90  float64 `json:"p90"`
	P99  float64 `json:"p99"`
	P999 float64 `json:"p999"`
	Max  float64 `json:"max"`
	Min  float64 `json:"min"`
}

func dist(v []float64) Dist {
	if len(v) == 0 {
		return Dist{}
	}
	s := append([]float64(nil), v...)
	sort.Float64s(s)
	sum := 0.0
	for _, x := range s {
		sum += x
	}
	q := func(p float64) float64 {
		// nearest-rank percentile
		i := int(math.Ceil(p*float64(len(s)))) - 1
		return round3(s[max(0, min(i, len(s)-1))])
	}
	return Dist{N: len(s), Mean: round3(sum / float64(len(s))), P50: q(0.50), P90: q(0.90), P99: q(0.99),
		P999: q(0.999), Max: round3(s[len(s)-1]), Min: round3(s[0])}
}

func round3(x float64) float64 { return math.Round(x*1000) / 1000 }

// subsample keeps at most n evenly spaced values (sorted), enough for a chart.
func subsample(v []float64, n int) []float64 {
	s := append([]float64(nil), v...)
	sort.Float64s(s)
	if len(s) <= n {
		return roundAll(s)
	}
	out := make([]float64, n)
	for i := range out {
		out[i] = s[i*(len(s)-1)/(n-1)]
	}
	return roundAll(out)
}

func roundAll(v []float64) []float64 {
	for i := range v {
		v[i] = round3(v[i])
	}
	return v
}

// ProcStats is what the sampler saw of one process during the measured window.
type ProcStats struct {
	Pid        int     `json:"pid"`
	CPUPercent float64 `json:"cpuPercent"` // average over the window; 100 = one core
	CPUPeak    float64 `json:"cpuPeakPercent"`
	RSSStartMB float64 `json:"rssStartMB"`
	RSSPeakMB  float64 `json:"rssPeakMB"`
	RSSEndMB   float64 `json:"rssEndMB"`
}

// sampler reads /proc/<pid>/stat and /proc/<pid>/status every 250 ms.
type sampler struct {
	mu    sync.Mutex
	pids  map[string]int
	stats map[string]*ProcStats
	first map[string]uint64
	last  map[string]uint64
	t0    time.Time
	stop  chan struct{}
	done  chan struct{}
}

var clkTck = 100.0 // USER_HZ; 100 on every Linux we run on

func parsePids(spec string) map[string]int {
	out := map[string]int{}
	for _, kv := range strings.Split(spec, ",") {
		if name, pid, ok := strings.Cut(kv, "="); ok {
			if p, err := strconv.Atoi(strings.TrimSpace(pid)); err == nil && p > 0 {
				out[strings.TrimSpace(name)] = p
			}
		}
	}
	return out
}

func cpuTicks(pid int) (uint64, bool) {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return 0, false
	}
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	f := strings.Fields(s[i+2:])
	// fields after ')' start at field 3 (state); utime is field 14, stime 15
	u, _ := strconv.ParseUint(f[11], 10, 64)
	st, _ := strconv.ParseUint(f[12], 10, 64)
	return u + st, true
}

// RSSMB is a process's resident set in MiB, or 0 when it is gone.
func RSSMB(pid int) float64 {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/status")
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(line, "VmRSS:") {
			f := strings.Fields(line)
			kb, _ := strconv.ParseFloat(f[1], 64)
			return kb / 1024
		}
	}
	return 0
}

func startSampler(pids map[string]int) *sampler {
	s := &sampler{pids: pids, stats: map[string]*ProcStats{}, first: map[string]uint64{}, last: map[string]uint64{},
		t0: time.Now(), stop: make(chan struct{}), done: make(chan struct{})}
	for name, pid := range pids {
		t, _ := cpuTicks(pid)
		s.first[name], s.last[name] = t, t
		r := RSSMB(pid)
		s.stats[name] = &ProcStats{Pid: pid, RSSStartMB: round3(r), RSSPeakMB: round3(r)}
	}
	go func() {
		defer close(s.done)
		tick := time.NewTicker(250 * time.Millisecond)
		defer tick.Stop()
		prev := time.Now()
		for {
			select {
			case <-s.stop:
				return
			case now := <-tick.C:
				s.mu.Lock()
				for name, pid := range s.pids {
					st := s.stats[name]
					if t, ok := cpuTicks(pid); ok {
						pct := float64(t-s.last[name]) / clkTck / now.Sub(prev).Seconds() * 100
						st.CPUPeak = max(st.CPUPeak, round3(pct))
						s.last[name] = t
					}
					st.RSSPeakMB = max(st.RSSPeakMB, round3(RSSMB(pid)))
				}
				prev = now
				s.mu.Unlock()
			}
		}
	}()
	return s
}

func (s *sampler) finish() map[string]*ProcStats {
	close(s.stop)
	<-s.done
	el := time.Since(s.t0).Seconds()
	for name, pid := range s.pids {
		st := s.stats[name]
		if t, ok := cpuTicks(pid); ok {
			s.last[name] = t
		}
		st.CPUPercent = round3(float64(s.last[name]-s.first[name]) / clkTck / el * 100)
		st.RSSEndMB = round3(RSSMB(pid))
	}
	return s.stats
}
