package main

import (
	"testing"
	"time"
)

func TestDistUsesNearestRank(t *testing.T) {
	v := make([]float64, 100)
	for i := range v {
		v[i] = float64(100 - i) // 100..1, unsorted
	}
	d := dist(v)
	if d.N != 100 || d.P50 != 50 || d.P99 != 99 || d.Max != 100 || d.Min != 1 || d.Mean != 50.5 {
		t.Fatalf("dist: %+v", d)
	}
	if (dist(nil) != Dist{}) {
		t.Fatal("empty input must give a zero Dist")
	}
}

func TestGapsAndPeakOverlap(t *testing.T) {
	c := &collector{cfg: &config{Gap: 40 * time.Millisecond}}
	t0 := time.Now()
	a, b := newRec(), newRec()
	for _, ms := range []int{0, 20, 40, 100, 120} { // one gap: 40 → 100
		c.delta(a, "x", t0.Add(time.Duration(ms)*time.Millisecond), 0)
	}
	c.delta(b, "x", t0.Add(110*time.Millisecond), t0.Add(110*time.Millisecond).UnixMicro()-500)
	c.delta(b, "x", t0.Add(200*time.Millisecond), 0)
	if a.gaps != 1 || a.maxGap != 60*time.Millisecond || b.gaps != 1 {
		t.Fatalf("gaps a=%d (max %v) b=%d", a.gaps, a.maxGap, b.gaps)
	}
	if len(c.relay) != 1 || c.relay[0] != 0.5 {
		t.Fatalf("relay samples %v, want [0.5]", c.relay)
	}
	if p := peakOverlap([]*rec{a, b}); p != 2 {
		t.Fatalf("peak overlap %d, want 2", p)
	}
}

func TestParseHeapUsedMB(t *testing.T) {
	zgc := []byte("28896:\n ZHeap            used 116M, capacity 380M, max capacity 6028M\n Cache 264M (1)\n")
	g1 := []byte(" garbage-first heap   total reserved 6291456K, committed 258048K, used 125440K [0x0000000640000000, 0x0000000800000000)\n")
	for _, c := range []struct {
		out  []byte
		want float64
	}{{zgc, 116}, {g1, 122.5}, {[]byte("no heap here"), 0}, {[]byte(" ZHeap used 2G, capacity 3G"), 2048}} {
		if got := parseHeapUsedMB(c.out); got != c.want {
			t.Errorf("parseHeapUsedMB(%q) = %v, want %v", c.out, got, c.want)
		}
	}
}
