// Command temporalbench measures Temporal's own ceiling on this machine: how many minimal
// workflows (one activity that echoes its input) per second the same server completes, with a
// worker in this process on a task queue of its own.
//
//	temporalbench -address 127.0.0.1:7233 -namespace chorus-bench -concurrency 64 -duration 20s -out t.json
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"log"
	"log/slog"
	"math"
	"os"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	"go.temporal.io/sdk/client"
	sdklog "go.temporal.io/sdk/log"
	"go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"
)

// Echo is the one activity.
func Echo(_ context.Context, in string) (string, error) { return in, nil }

// OneActivity is the minimal workflow: schedule one activity, return its result.
func OneActivity(ctx workflow.Context, in string) (string, error) {
	ctx = workflow.WithActivityOptions(ctx, workflow.ActivityOptions{StartToCloseTimeout: 10 * time.Second})
	var out string
	err := workflow.ExecuteActivity(ctx, Echo, in).Get(ctx, &out)
	return out, err
}

type dist struct {
	N                       int
	P50, P90, P99, Max, Min float64
}

func mkDist(v []float64) dist {
	if len(v) == 0 {
		return dist{}
	}
	sort.Float64s(v)
	q := func(p float64) float64 {
		i := int(math.Ceil(p*float64(len(v)))) - 1
		return math.Round(v[max(0, min(i, len(v)-1))]*1000) / 1000
	}
	return dist{N: len(v), P50: q(.5), P90: q(.9), P99: q(.99), Max: q(1), Min: v[0]}
}

func main() {
	addr := flag.String("address", "127.0.0.1:7233", "Temporal frontend")
	ns := flag.String("namespace", "default", "namespace")
	queue := flag.String("task-queue", "bench-ceiling", "task queue of this benchmark's own worker")
	conc := flag.Int("concurrency", 64, "workflows in flight at once")
	dur := flag.Duration("duration", 20*time.Second, "how long to start workflows")
	out := flag.String("out", "", "write the JSON result here (default stdout)")
	flag.Parse()
	log.SetPrefix("[temporalbench] ")
	log.SetFlags(log.Ltime)

	c, err := client.Dial(client.Options{HostPort: *addr, Namespace: *ns, Logger: sdklog.NewStructuredLogger(slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn})))})
	if err != nil {
		log.Fatalf("dial %s: %v", *addr, err)
	}
	defer c.Close()
	w := worker.New(c, *queue, worker.Options{MaxConcurrentActivityExecutionSize: 256, MaxConcurrentWorkflowTaskExecutionSize: 256})
	w.RegisterWorkflow(OneActivity)
	w.RegisterActivity(Echo)
	if err := w.Start(); err != nil {
		log.Fatalf("worker: %v", err)
	}
	defer w.Stop()

	run := time.Now().UnixNano()
	var next, failed atomic.Int64
	var mu sync.Mutex
	var lat []float64
	started := time.Now()
	stopAt := started.Add(*dur)
	var wg sync.WaitGroup
	for g := 0; g < *conc; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for time.Now().Before(stopAt) {
				i := next.Add(1)
				t0 := time.Now()
				ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
				run, err := c.ExecuteWorkflow(ctx, client.StartWorkflowOptions{
					ID: fmt.Sprintf("bench-ceiling-%d-%d", run, i), TaskQueue: *queue}, OneActivity, "x")
				var res string
				if err == nil {
					err = run.Get(ctx, &res)
				}
				cancel()
				if err != nil {
					if failed.Add(1) <= 5 {
						log.Printf("workflow %d: %v", i, err)
					}
					continue
				}
				ms := float64(time.Since(t0).Microseconds()) / 1000
				mu.Lock()
				lat = append(lat, ms)
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	el := time.Since(started).Seconds()
	d := mkDist(lat)
	result := map[string]any{
		"config":             map[string]any{"address": *addr, "namespace": *ns, "taskQueue": *queue, "concurrency": *conc, "durationS": dur.Seconds()},
		"completed":          len(lat),
		"failed":             failed.Load(),
		"elapsedS":           math.Round(el*1000) / 1000,
		"workflowsPerSecond": math.Round(float64(len(lat))/el*100) / 100,
		"latencyMs":          map[string]any{"n": d.N, "p50": d.P50, "p90": d.P90, "p99": d.P99, "max": d.Max, "min": d.Min},
	}
	b, _ := json.MarshalIndent(result, "", "  ")
	if *out == "" {
		fmt.Println(string(b))
	} else if err := os.WriteFile(*out, append(b, '\n'), 0o644); err != nil {
		log.Fatal(err)
	}
	log.Printf("%d workflows in %.1fs = %.1f/s; start→result p50 %.1f ms p99 %.1f ms; %d failed",
		len(lat), el, float64(len(lat))/el, d.P50, d.P99, failed.Load())
}
