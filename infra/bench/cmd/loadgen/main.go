// Command loadgen drives the same load against Chorus (REST + WebSocket), directly against the
// fake LLM server (the floor) or against an OpenAI-compatible gateway such as the LiteLLM proxy,
// and writes what it measured as JSON.
//
//	loadgen -target chorus  -mode rate       -rate 20 -duration 20s -api http://127.0.0.1:8080
//	loadgen -target direct  -mode rate       -rate 20 -duration 20s -url http://127.0.0.1:18090/v1
//	loadgen -target litellm -mode rate       -rate 20 -duration 20s -url http://127.0.0.1:4000/v1 -key sk-bench
//	loadgen -target chorus  -mode sustained  -rates 10,20,40 -duration 10s -bound 250ms
//	loadgen -target chorus  -mode concurrent -streams 512 -model 'fake-1?chunks=250'
//	loadgen -target chorus  -mode relay      -clients 500 -per-conversation 10
//	loadgen -target chorus  -mode idle       -idle 10000
//
// Per query it records the time to first token (client send → first delta), the added time to
// first token (that minus -ttft, the fake server's configured first-token time), per-chunk relay
// latency (client receipt − the worker's emittedAtMicros on each delta), gaps between two deltas
// of one answer longer than -gap (default 2 × -interval), and errors. With -pids api=PID,... it
// samples each process's CPU and resident memory from /proc.
package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log"
	"math/rand/v2"
	"net/http"
	"os"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/coder/websocket"
)

type config struct {
	Deflate         bool          `json:"deflate"`
	Target          string        `json:"target"`
	Mode            string        `json:"mode"`
	Label           string        `json:"label"`
	API             string        `json:"api,omitempty"`
	URL             string        `json:"url,omitempty"`
	Provider        string        `json:"provider"`
	Model           string        `json:"model"`
	Agents          int           `json:"agents"`
	Rate            float64       `json:"rate,omitempty"`
	Rates           string        `json:"rates,omitempty"`
	Duration        time.Duration `json:"-"`
	DurationS       float64       `json:"durationS"`
	Bound           time.Duration `json:"-"`
	BoundMs         float64       `json:"boundMs,omitempty"`
	Connections     int           `json:"connections"`
	Streams         int           `json:"streams,omitempty"`
	Ramp            time.Duration `json:"-"`
	Clients         int           `json:"clients,omitempty"`
	PerConversation int           `json:"perConversation,omitempty"`
	Idle            int           `json:"idle,omitempty"`
	Hold            time.Duration `json:"-"`
	TTFT            time.Duration `json:"-"`
	TTFTMs          float64       `json:"fakeTtftMs"`
	Interval        time.Duration `json:"-"`
	IntervalMs      float64       `json:"fakeIntervalMs"`
	Gap             time.Duration `json:"-"`
	GapMs           float64       `json:"gapThresholdMs"`
	Timeout         time.Duration `json:"-"`
	Key             string        `json:"-"`
	Pids            string        `json:"-"`
	Jcmd            string        `json:"-"`
	Out             string        `json:"-"`
	Require         bool          `json:"-"`
}

// Result is one measured run (or one step of a sustained run).
type Result struct {
	Config      *config               `json:"config"`
	StartedAt   time.Time             `json:"startedAt"`
	ElapsedS    float64               `json:"elapsedS"`
	Sent        int                   `json:"sent"`
	Completed   int                   `json:"completed"`
	Failed      int                   `json:"failed"`
	TimedOut    int                   `json:"timedOut"`
	OfferedRate float64               `json:"offeredRate,omitempty"`
	Throughput  float64               `json:"completedPerSecond"`
	TTFT        Dist                  `json:"ttftMs"`
	AddedTTFT   Dist                  `json:"addedTtftMs"`
	Relay       *Dist                 `json:"relayMs,omitempty"`
	Total       Dist                  `json:"totalMs"`
	Steps1      map[string]Dist       `json:"ttftBreakdownMs,omitempty"`
	Deltas      int64                 `json:"deltas"`
	Gaps        int                   `json:"gaps"`
	GapQueries  int                   `json:"queriesWithGap"`
	MaxGapMs    float64               `json:"maxGapMs"`
	PeakStreams int                   `json:"peakConcurrentStreams,omitempty"`
	Receivers   int                   `json:"receivers,omitempty"`
	ErrorCount  int                   `json:"errorCount"`
	Errors      []string              `json:"errors,omitempty"`
	Processes   map[string]*ProcStats `json:"processes,omitempty"`
	Memory      *Memory               `json:"memory,omitempty"`
	Steps       []*Result             `json:"steps,omitempty"`
	Sustained   *float64              `json:"sustainedRate,omitempty"`
	Samples     map[string][]float64  `json:"samples,omitempty"`
}

// Memory is the api-server's resident memory before and after opening the connections.
type Memory struct {
	Connections        int     `json:"connections"`
	Failed             int     `json:"failedToConnect"`
	Open               int     `json:"openAtEnd"`
	Pongs              int     `json:"pongs"`
	Pinged             int     `json:"pinged"`
	RSSBeforeMB        float64 `json:"rssBeforeMB"`
	RSSAfterMB         float64 `json:"rssAfterMB"`
	BytesPerConnection float64 `json:"bytesPerConnection"`
	// The JVM's heap in use after a full GC (its live heap), before and after: unlike RSS, it does
	// not move with how much heap the collector keeps committed.
	HeapBeforeMB           float64 `json:"heapBeforeMB,omitempty"`
	HeapAfterMB            float64 `json:"heapAfterMB,omitempty"`
	HeapBytesPerConnection float64 `json:"heapBytesPerConnection,omitempty"`
	ConnectSeconds         float64 `json:"connectSeconds"`
}

// rec is one client's view of one query.
type rec struct {
	sent      time.Time
	accepted  time.Time // message_accepted: stored and the workflow started
	qstarted  time.Time // query_started: the workflow's first activity ran
	rstarted  time.Time // first response_started: an agent's activity began streaming
	first     time.Time
	lastDelta time.Time
	last      map[string]time.Time
	deltas    int
	gaps      int
	maxGap    time.Duration
	status    string
	err       string
	done      time.Time
	closed    bool
	doneCh    chan struct{}
}

func newRec() *rec { return &rec{last: map[string]time.Time{}, doneCh: make(chan struct{})} }

// collector gathers every client's measurements.
type collector struct {
	cfg    *config
	mu     sync.Mutex
	recs   []*rec // the queries this run sent (TTFT, totals)
	views  []*rec // every receiver's view (gaps); includes recs
	relay  []float64
	errs   []string
	nerr   int
	deltas atomic.Int64
}

func (c *collector) errorf(format string, a ...any) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.nerr++
	if len(c.errs) < 20 {
		c.errs = append(c.errs, fmt.Sprintf(format, a...))
	}
}

// delta notes one delta of agent arriving at now; emittedMicros is the worker's stamp (0: none).
func (c *collector) delta(r *rec, agent string, now time.Time, emittedMicros int64) {
	c.deltas.Add(1)
	if r.first.IsZero() {
		r.first = now
	}
	if prev, ok := r.last[agent]; ok {
		if g := now.Sub(prev); g > c.cfg.Gap {
			r.gaps++
		}
		r.maxGap = max(r.maxGap, now.Sub(prev))
	}
	r.last[agent] = now
	r.lastDelta = now
	r.deltas++
	if emittedMicros > 0 {
		ms := float64(now.UnixMicro()-emittedMicros) / 1000
		c.mu.Lock()
		c.relay = append(c.relay, ms)
		c.mu.Unlock()
	}
}

func (r *rec) finish(status, err string) {
	if r.closed {
		return
	}
	r.closed = true
	r.status, r.err, r.done = status, err, time.Now()
	close(r.doneCh)
}

func main() {
	cfg := &config{}
	flag.StringVar(&cfg.Target, "target", "chorus", "chorus | direct | litellm")
	flag.StringVar(&cfg.Mode, "mode", "rate", "rate | sustained | concurrent | relay | idle")
	flag.StringVar(&cfg.Label, "label", "", "name of this run in the report (default: target)")
	flag.StringVar(&cfg.API, "api", "http://127.0.0.1:8080", "Chorus api-server base URL")
	flag.StringVar(&cfg.URL, "url", "http://127.0.0.1:18090/v1", "OpenAI-compatible base URL (direct, litellm)")
	flag.StringVar(&cfg.Provider, "provider", "fake", "Chorus provider id of the fake server")
	flag.StringVar(&cfg.Model, "model", "fake-1", "model (may carry fakellm overrides: fake-1?chunks=250)")
	flag.IntVar(&cfg.Agents, "agents", 1, "agents per Chorus query")
	flag.Float64Var(&cfg.Rate, "rate", 20, "queries per second (rate)")
	flag.StringVar(&cfg.Rates, "rates", "10,20,40,60,80", "rates to step through (sustained)")
	flag.DurationVar(&cfg.Duration, "duration", 20*time.Second, "how long to send (rate; per step for sustained)")
	flag.DurationVar(&cfg.Bound, "bound", 250*time.Millisecond, "p99 added-TTFT bound (sustained)")
	flag.IntVar(&cfg.Connections, "connections", 32, "WebSocket connections that send (rate, sustained)")
	flag.IntVar(&cfg.Streams, "streams", 256, "queries started at once (concurrent)")
	flag.DurationVar(&cfg.Ramp, "ramp", 2*time.Second, "spread the concurrent starts over this")
	flag.IntVar(&cfg.Clients, "clients", 500, "WebSocket clients receiving streams (relay)")
	flag.IntVar(&cfg.PerConversation, "per-conversation", 10, "clients subscribed to each conversation (relay)")
	flag.IntVar(&cfg.Idle, "idle", 10000, "idle WebSocket connections (idle)")
	flag.DurationVar(&cfg.Hold, "hold", 10*time.Second, "how long idle connections are held")
	flag.DurationVar(&cfg.TTFT, "ttft", 100*time.Millisecond, "the fake server's configured time to first token")
	flag.DurationVar(&cfg.Interval, "interval", 20*time.Millisecond, "the fake server's configured chunk interval")
	flag.DurationVar(&cfg.Gap, "gap", 0, "a gap is longer than this (default 2 × interval)")
	flag.DurationVar(&cfg.Timeout, "timeout", 60*time.Second, "how long to wait for the last query to finish")
	flag.StringVar(&cfg.Key, "key", "sk-bench", "bearer key for direct / litellm")
	flag.StringVar(&cfg.Pids, "pids", "", "processes to sample: name=pid,name=pid")
	flag.StringVar(&cfg.Jcmd, "jcmd", "", "jcmd binary: run GC.run on the api pid before memory readings")
	flag.StringVar(&cfg.Out, "out", "", "write the JSON result here (default stdout)")
	flag.BoolVar(&cfg.Require, "require-complete", false, "exit 1 unless every query completed (warm-up)")
	flag.BoolVar(&cfg.Deflate, "deflate", false, "offer permessage-deflate on every WebSocket, as browsers do")
	flag.Parse()
	if cfg.Gap == 0 {
		cfg.Gap = 2 * cfg.Interval
	}
	if cfg.Label == "" {
		cfg.Label = cfg.Target
	}
	cfg.DurationS, cfg.BoundMs = cfg.Duration.Seconds(), ms(cfg.Bound)
	cfg.TTFTMs, cfg.IntervalMs, cfg.GapMs = ms(cfg.TTFT), ms(cfg.Interval), ms(cfg.Gap)
	log.SetPrefix("[loadgen " + cfg.Label + "] ")
	log.SetFlags(log.Ltime)

	var res *Result
	var err error
	switch cfg.Mode {
	case "rate":
		res, err = runRate(cfg, cfg.Rate)
	case "sustained":
		res, err = runSustained(cfg)
	case "concurrent":
		res, err = runConcurrent(cfg)
	case "relay":
		res, err = runRelay(cfg)
	case "idle":
		res, err = runIdle(cfg)
	default:
		err = fmt.Errorf("unknown -mode %q", cfg.Mode)
	}
	if err != nil {
		log.Fatalf("%v", err)
	}
	out, _ := json.MarshalIndent(res, "", "  ")
	if cfg.Out == "" {
		fmt.Println(string(out))
	} else if err := os.WriteFile(cfg.Out, append(out, '\n'), 0o644); err != nil {
		log.Fatalf("%v", err)
	}
	log.Printf("%s", summary(res))
	if cfg.Require && (res.Completed < res.Sent || res.Sent == 0) {
		log.Fatalf("only %d of %d queries completed; first errors: %v", res.Completed, res.Sent, res.Errors)
	}
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

func summary(r *Result) string {
	s := fmt.Sprintf("sent %d completed %d failed %d timed out %d errors %d", r.Sent, r.Completed, r.Failed, r.TimedOut, r.ErrorCount)
	if r.TTFT.N > 0 {
		s += fmt.Sprintf("; added TTFT p50 %.1f ms p99 %.1f ms", r.AddedTTFT.P50, r.AddedTTFT.P99)
	}
	if r.Relay != nil && r.Relay.N > 0 {
		s += fmt.Sprintf("; relay p50 %.3f ms p99 %.3f ms", r.Relay.P50, r.Relay.P99)
	}
	s += fmt.Sprintf("; gaps %d (max %.0f ms)", r.Gaps, r.MaxGapMs)
	if r.Memory != nil {
		s += fmt.Sprintf("; %d connections, %.0f bytes each", r.Memory.Connections, r.Memory.BytesPerConnection)
	}
	if r.Sustained != nil {
		s += fmt.Sprintf("; sustained %.0f q/s", *r.Sustained)
	}
	return s
}

// ---- the prompt every target gets for query i ----

func prompt(i int) string {
	return fmt.Sprintf("Benchmark question %d: why is the sky blue, and how would you explain it to a child?", i)
}

// ---- results ----

func (c *collector) result(started time.Time, sent int, proc map[string]*ProcStats) *Result {
	c.mu.Lock()
	defer c.mu.Unlock()
	r := &Result{Config: c.cfg, StartedAt: started, ElapsedS: round3(time.Since(started).Seconds()), Sent: sent,
		ErrorCount: c.nerr, Errors: c.errs, Processes: proc, Samples: map[string][]float64{}, Deltas: c.deltas.Load()}
	var ttft, added, total []float64
	steps := map[string][]float64{}
	step := func(name string, a, b time.Time) {
		if !a.IsZero() && !b.IsZero() {
			steps[name] = append(steps[name], ms(b.Sub(a)))
		}
	}
	for _, q := range c.recs {
		step("1 send → message_accepted", q.sent, q.accepted)
		step("2 message_accepted → query_started", q.accepted, q.qstarted)
		step("3 query_started → response_started", q.qstarted, q.rstarted)
		step("4 response_started → first delta", q.rstarted, q.first)
		switch {
		case !q.closed:
			r.TimedOut++
		case q.status == "COMPLETED":
			r.Completed++
		default:
			r.Failed++
		}
		if !q.first.IsZero() && !q.sent.IsZero() {
			t := ms(q.first.Sub(q.sent))
			ttft = append(ttft, t)
			added = append(added, t-c.cfg.TTFTMs)
		}
		if q.closed && q.status == "COMPLETED" {
			total = append(total, ms(q.done.Sub(q.sent)))
		}
	}
	for _, v := range c.views {
		r.Gaps += v.gaps
		if v.gaps > 0 {
			r.GapQueries++
		}
		r.MaxGapMs = max(r.MaxGapMs, ms(v.maxGap))
	}
	r.TTFT, r.AddedTTFT, r.Total = dist(ttft), dist(added), dist(total)
	if len(steps) > 0 {
		r.Steps1 = map[string]Dist{}
		for k, v := range steps {
			r.Steps1[k] = dist(v)
		}
	}
	r.Samples["addedTtftMs"] = subsample(added, 2000)
	if c.cfg.Target == "chorus" {
		d := dist(c.relay)
		r.Relay = &d
		r.Samples["relayMs"] = subsample(c.relay, 2000)
	}
	if el := time.Since(started).Seconds(); el > 0 {
		r.Throughput = round3(float64(r.Completed) / el)
	}
	r.PeakStreams = peakOverlap(c.recs)
	return r
}

// peakOverlap is the largest number of answers that were streaming at one moment.
func peakOverlap(recs []*rec) int {
	type ev struct {
		t time.Time
		d int
	}
	var evs []ev
	for _, q := range recs {
		if !q.first.IsZero() {
			evs = append(evs, ev{q.first, 1}, ev{q.lastDelta, -1})
		}
	}
	sortEvents := func() {
		for i := 1; i < len(evs); i++ {
			for j := i; j > 0 && (evs[j].t.Before(evs[j-1].t) || (evs[j].t.Equal(evs[j-1].t) && evs[j].d > evs[j-1].d)); j-- {
				evs[j], evs[j-1] = evs[j-1], evs[j]
			}
		}
	}
	if len(evs) > 20000 {
		return -1
	}
	sortEvents()
	cur, peak := 0, 0
	for _, e := range evs {
		cur += e.d
		peak = max(peak, cur)
	}
	return peak
}

// ---- Chorus: REST setup and WebSocket clients ----

type chorus struct {
	cfg  *config
	http *http.Client
	run  string
}

type user struct {
	token string
	id    string
}

func newChorus(cfg *config) *chorus {
	tr := &http.Transport{MaxIdleConns: 256, MaxIdleConnsPerHost: 256}
	return &chorus{cfg: cfg, http: &http.Client{Transport: tr, Timeout: 30 * time.Second},
		run: strconv.FormatInt(time.Now().UnixNano(), 36)}
}

func (ch *chorus) post(path, token string, body any, out any) error {
	b, _ := json.Marshal(body)
	req, _ := http.NewRequest(http.MethodPost, ch.cfg.API+path, bytes.NewReader(b))
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := ch.http.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("POST %s: %d %s", path, resp.StatusCode, strings.TrimSpace(string(data)))
	}
	return json.Unmarshal(data, out)
}

func (ch *chorus) users(n int) ([]user, error) {
	out := make([]user, n)
	err := parallel(n, 8, func(i int) error {
		var r struct {
			Token string `json:"token"`
			User  struct {
				ID string `json:"id"`
			} `json:"user"`
		}
		email := fmt.Sprintf("bench-%s-%d@bench.example.com", ch.run, i)
		if err := ch.post("/api/auth/register", "", map[string]string{"email": email, "password": "bench-password-" + ch.run}, &r); err != nil {
			return err
		}
		out[i] = user{token: r.Token, id: r.User.ID}
		return nil
	})
	return out, err
}

func (ch *chorus) conversations(us []user, n int) ([]string, error) {
	out := make([]string, n)
	err := parallel(n, 16, func(i int) error {
		var r struct {
			ID string `json:"id"`
		}
		if err := ch.post("/api/conversations", us[i%len(us)].token, map[string]string{"title": fmt.Sprintf("bench %d", i)}, &r); err != nil {
			return err
		}
		out[i] = r.ID
		return nil
	})
	return out, err
}

func parallel(n, workers int, f func(i int) error) error {
	var next atomic.Int64
	var first error
	var once sync.Once
	var wg sync.WaitGroup
	for w := 0; w < min(workers, n); w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1)) - 1
				if i >= n {
					return
				}
				if err := f(i); err != nil {
					once.Do(func() { first = err })
					return
				}
			}
		}()
	}
	wg.Wait()
	return first
}

// wsClient is one WebSocket connection; its reader timestamps every frame on arrival.
type wsClient struct {
	col          *collector
	conn         *websocket.Conn
	wmu          sync.Mutex
	mu           sync.Mutex
	pending      map[string]*rec // clientMessageId → the query it sends
	byQuery      map[string]*rec
	views        int           // expected query_completed count for receivers
	subscribed   chan struct{} // closed at the first "subscribed"
	subscribedOn sync.Once
	pongs        atomic.Int64
	closed       atomic.Bool
	track        bool // keep a view of every query seen (receivers)
}

type frame struct {
	Type            string          `json:"type"`
	QueryID         string          `json:"queryId"`
	Agent           string          `json:"agent"`
	ClientMessageID string          `json:"clientMessageId"`
	EmittedAtMicros int64           `json:"emittedAtMicros"`
	Status          string          `json:"status"`
	Code            string          `json:"code"`
	Message         json.RawMessage `json:"message"` // a string in error events, an object elsewhere
	Error           any             `json:"error"`
	Query           struct {
		ID string `json:"id"`
	} `json:"query"`
}

func (ch *chorus) dial(ctx context.Context, col *collector, token string, track bool) (*wsClient, error) {
	u := strings.Replace(ch.cfg.API, "http", "ws", 1) + "/ws?token=" + token
	dctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	opts := &websocket.DialOptions{HTTPClient: &http.Client{Transport: &http.Transport{}}}
	if ch.cfg.Deflate {
		// Offer permessage-deflate with context takeover, as browsers do.
		opts.CompressionMode = websocket.CompressionContextTakeover
	}
	conn, _, err := websocket.Dial(dctx, u, opts)
	if err != nil {
		// The URL carries the token; keep it out of reports and logs.
		return nil, fmt.Errorf("%s", strings.ReplaceAll(err.Error(), token, "<token>"))
	}
	conn.SetReadLimit(4 << 20)
	c := &wsClient{col: col, conn: conn, pending: map[string]*rec{}, byQuery: map[string]*rec{}, subscribed: make(chan struct{}), track: track}
	go c.read(ctx)
	return c, nil
}

func (c *wsClient) send(ctx context.Context, v any) error {
	b, _ := json.Marshal(v)
	c.wmu.Lock()
	defer c.wmu.Unlock()
	wctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	return c.conn.Write(wctx, websocket.MessageText, b)
}

func (c *wsClient) read(ctx context.Context) {
	defer c.closed.Store(true)
	for {
		_, data, err := c.conn.Read(ctx)
		now := time.Now()
		if err != nil {
			if ctx.Err() == nil && websocket.CloseStatus(err) != websocket.StatusNormalClosure {
				c.col.errorf("websocket closed: %v", err)
			}
			c.mu.Lock()
			for _, r := range c.byQuery {
				r.finish("DISCONNECTED", err.Error())
			}
			c.mu.Unlock()
			return
		}
		var f frame
		if err := json.Unmarshal(data, &f); err != nil {
			c.col.errorf("bad frame: %v", err)
			continue
		}
		c.mu.Lock()
		c.handle(&f, now)
		c.mu.Unlock()
	}
}

// handle runs under c.mu.
func (c *wsClient) handle(f *frame, now time.Time) {
	view := func() *rec {
		r := c.byQuery[f.QueryID]
		if r == nil && f.QueryID != "" && c.track {
			r = newRec()
			c.byQuery[f.QueryID] = r
			c.col.mu.Lock()
			c.col.views = append(c.col.views, r)
			c.col.mu.Unlock()
		}
		return r
	}
	switch f.Type {
	case "subscribed":
		c.subscribedOn.Do(func() { close(c.subscribed) })
	case "pong":
		c.pongs.Add(1)
	case "message_accepted":
		r := c.pending[f.ClientMessageID]
		if r == nil {
			return
		}
		delete(c.pending, f.ClientMessageID)
		if early := c.byQuery[f.Query.ID]; early != nil && early != r {
			// Events of this query outran its ack; keep what they measured.
			r.first, r.deltas, r.last, r.lastDelta = early.first, early.deltas, early.last, early.lastDelta
			r.qstarted, r.rstarted = early.qstarted, early.rstarted
		}
		r.accepted = now
		c.byQuery[f.Query.ID] = r
	case "query_started":
		if r := view(); r != nil && r.qstarted.IsZero() {
			r.qstarted = now
		}
	case "response_started":
		if r := view(); r != nil && r.rstarted.IsZero() {
			r.rstarted = now
		}
	case "delta":
		if r := view(); r != nil {
			c.col.delta(r, f.Agent, now, f.EmittedAtMicros)
		}
	case "response_failed":
		if r := view(); r != nil {
			c.col.errorf("response_failed %s: %v", f.Agent, f.Error)
			r.err = fmt.Sprint(f.Error)
		}
	case "query_completed":
		if r := view(); r != nil {
			r.finish(f.Status, r.err)
		}
	case "error":
		c.col.errorf("error event %s: %s", f.Code, string(f.Message))
		if r := c.pending[f.ClientMessageID]; r != nil && f.ClientMessageID != "" {
			r.finish("REJECTED", f.Code)
		}
	}
}

func (ch *chorus) agents() []map[string]any {
	out := make([]map[string]any, ch.cfg.Agents)
	for i := range out {
		out[i] = map[string]any{"provider": ch.cfg.Provider, "model": ch.cfg.Model, "name": fmt.Sprintf("a%d", i)}
	}
	return out
}

// sendQuery sends query i in conversation conv; the returned rec completes with query_completed.
func (c *wsClient) sendQuery(ctx context.Context, ch *chorus, conv string, i int) *rec {
	r := newRec()
	cmid := fmt.Sprintf("q%d", i)
	c.mu.Lock()
	c.pending[cmid] = r
	c.mu.Unlock()
	c.col.mu.Lock()
	c.col.recs = append(c.col.recs, r)
	c.col.views = append(c.col.views, r)
	c.col.mu.Unlock()
	r.sent = time.Now()
	if err := c.send(ctx, map[string]any{"type": "send_message", "conversationId": conv, "content": prompt(i),
		"agents": ch.agents(), "clientMessageId": cmid}); err != nil {
		c.col.errorf("send_message: %v", err)
		c.mu.Lock()
		r.finish("SEND_FAILED", err.Error())
		c.mu.Unlock()
	}
	return r
}

// ---- direct / LiteLLM: streaming Chat Completions over HTTP ----

type openai struct {
	cfg  *config
	http *http.Client
}

func newOpenAI(cfg *config) *openai {
	tr := &http.Transport{MaxIdleConns: 4096, MaxIdleConnsPerHost: 4096, MaxConnsPerHost: 0}
	return &openai{cfg: cfg, http: &http.Client{Transport: tr, Timeout: cfg.Timeout}}
}

func (o *openai) query(col *collector, i int) *rec {
	r := newRec()
	col.mu.Lock()
	col.recs = append(col.recs, r)
	col.views = append(col.views, r)
	col.mu.Unlock()
	go func() {
		body, _ := json.Marshal(map[string]any{"model": o.cfg.Model, "stream": true,
			"messages": []any{map[string]string{"role": "user", "content": prompt(i)}}})
		req, _ := http.NewRequest(http.MethodPost, o.cfg.URL+"/chat/completions", bytes.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Authorization", "Bearer "+o.cfg.Key)
		r.sent = time.Now()
		resp, err := o.http.Do(req)
		var mu sync.Mutex // finish() is not otherwise shared here, but keep one style
		fail := func(msg string) {
			col.errorf("query %d: %s", i, msg)
			mu.Lock()
			r.finish("FAILED", msg)
			mu.Unlock()
		}
		if err != nil {
			fail(err.Error())
			return
		}
		defer resp.Body.Close()
		if resp.StatusCode != 200 {
			b, _ := io.ReadAll(io.LimitReader(resp.Body, 300))
			fail(fmt.Sprintf("HTTP %d %s", resp.StatusCode, b))
			return
		}
		sc := bufio.NewScanner(resp.Body)
		sc.Buffer(make([]byte, 64<<10), 4<<20)
		for sc.Scan() {
			line := sc.Bytes()
			if !bytes.HasPrefix(line, []byte("data:")) {
				continue
			}
			data := bytes.TrimSpace(line[5:])
			if string(data) == "[DONE]" {
				mu.Lock()
				r.finish("COMPLETED", "")
				mu.Unlock()
				return
			}
			now := time.Now()
			var chunk struct {
				Choices []struct {
					Delta struct {
						Content string `json:"content"`
					} `json:"delta"`
				} `json:"choices"`
			}
			if json.Unmarshal(data, &chunk) == nil && len(chunk.Choices) > 0 && chunk.Choices[0].Delta.Content != "" {
				col.delta(r, "a0", now, 0)
			}
		}
		fail(fmt.Sprintf("stream ended without [DONE]: %v", sc.Err()))
	}()
	return r
}

// ---- modes ----

// sender abstracts "start query i" over the targets, after per-run setup.
type sender func(ctx context.Context, i int) *rec

func setupSenders(ctx context.Context, cfg *config, col *collector, queries int) (sender, func(), error) {
	if cfg.Target != "chorus" {
		o := newOpenAI(cfg)
		return func(_ context.Context, i int) *rec { return o.query(col, i) }, func() {}, nil
	}
	ch := newChorus(cfg)
	nUsers := max(1, min(cfg.Connections, 16))
	us, err := ch.users(nUsers)
	if err != nil {
		return nil, nil, err
	}
	clients := make([]*wsClient, cfg.Connections)
	for i := range clients {
		if clients[i], err = ch.dial(ctx, col, us[i%nUsers].token, false); err != nil {
			return nil, nil, fmt.Errorf("websocket: %w", err)
		}
	}
	// One fresh conversation per query: the same prompt (no growing context) for every target.
	convUsers := make([]user, cfg.Connections)
	for i := range convUsers {
		convUsers[i] = us[i%nUsers]
	}
	log.Printf("creating %d conversations", queries)
	convs, err := ch.conversations(convUsers, queries)
	if err != nil {
		return nil, nil, err
	}
	closeAll := func() {
		for _, c := range clients {
			_ = c.conn.Close(websocket.StatusNormalClosure, "bench done")
		}
	}
	// Conversation i belongs to user i % connections % nUsers, the same as client i % connections.
	return func(ctx context.Context, i int) *rec {
		return clients[i%len(clients)].sendQuery(ctx, ch, convs[i%len(convs)], i)
	}, closeAll, nil
}

func waitAll(recs []*rec, timeout time.Duration) {
	deadline := time.After(timeout)
	for _, r := range recs {
		select {
		case <-r.doneCh:
		case <-deadline:
			return
		}
	}
}

func runRate(cfg *config, rate float64) (*Result, error) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	col := &collector{cfg: cfg}
	n := int(rate * cfg.Duration.Seconds())
	send, closeAll, err := setupSenders(ctx, cfg, col, n)
	if err != nil {
		return nil, err
	}
	defer closeAll()
	log.Printf("sending %d queries at %.1f/s", n, rate)
	sm := startSampler(parsePids(cfg.Pids))
	started := time.Now()
	var recs []*rec
	for i := 0; i < n; i++ {
		// Open loop: query i goes at its scheduled time whatever the earlier ones do.
		if d := time.Until(started.Add(time.Duration(float64(i) / rate * float64(time.Second)))); d > 0 {
			time.Sleep(d)
		}
		recs = append(recs, send(ctx, i))
	}
	waitAll(recs, cfg.Timeout)
	res := col.result(started, n, sm.finish())
	res.OfferedRate = rate
	return res, nil
}

func runSustained(cfg *config) (*Result, error) {
	res := &Result{Config: cfg, StartedAt: time.Now()}
	for _, f := range strings.Split(cfg.Rates, ",") {
		rate, err := strconv.ParseFloat(strings.TrimSpace(f), 64)
		if err != nil || rate <= 0 {
			return nil, fmt.Errorf("bad -rates entry %q", f)
		}
		step, err := runRate(cfg, rate)
		if err != nil {
			return nil, err
		}
		step.Config = nil
		log.Printf("step %.0f q/s: %s", rate, summary(step))
		res.Steps = append(res.Steps, step)
		ok := step.TimedOut == 0 && step.Failed == 0 && step.AddedTTFT.P99 <= ms(cfg.Bound)
		if ok {
			r := rate
			res.Sustained = &r
		} else {
			break // past the bound: higher rates only get worse
		}
		time.Sleep(2 * time.Second) // let the last step's workflows finish their tails
	}
	res.ElapsedS = round3(time.Since(res.StartedAt).Seconds())
	return res, nil
}

func runConcurrent(cfg *config) (*Result, error) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	col := &collector{cfg: cfg}
	if cfg.Target == "chorus" {
		cfg.Connections = min(cfg.Connections, cfg.Streams)
	}
	send, closeAll, err := setupSenders(ctx, cfg, col, cfg.Streams)
	if err != nil {
		return nil, err
	}
	defer closeAll()
	log.Printf("starting %d streams over %v", cfg.Streams, cfg.Ramp)
	sm := startSampler(parsePids(cfg.Pids))
	started := time.Now()
	var recs []*rec
	for i := 0; i < cfg.Streams; i++ {
		if d := time.Until(started.Add(cfg.Ramp * time.Duration(i) / time.Duration(cfg.Streams))); d > 0 {
			time.Sleep(d)
		}
		recs = append(recs, send(ctx, i))
	}
	waitAll(recs, cfg.Timeout)
	return col.result(started, cfg.Streams, sm.finish()), nil
}

// gc asks the api-server's JVM for a full GC so RSS readings compare live memory.
func gc(cfg *config, pid int) {
	if cfg.Jcmd == "" || pid == 0 {
		return
	}
	_ = exec.Command(cfg.Jcmd, strconv.Itoa(pid), "GC.run").Run()
	time.Sleep(2 * time.Second)
}

var heapUsedPattern = regexp.MustCompile(`used (\d+)([KMG])`)

// parseHeapUsedMB reads the heap in use from `jcmd PID GC.heap_info` (ZGC: "ZHeap used 116M, ...";
// G1: "garbage-first heap total ..., used 61440K [...]"); 0 when there is none.
func parseHeapUsedMB(out []byte) float64 {
	m := heapUsedPattern.FindSubmatch(out)
	if m == nil {
		return 0
	}
	v, _ := strconv.ParseFloat(string(m[1]), 64)
	switch string(m[2]) {
	case "K":
		v /= 1024
	case "G":
		v *= 1024
	}
	return v
}

// heapUsedMB is the api-server JVM's heap in use now (after gc: its live heap).
func heapUsedMB(cfg *config, pid int) float64 {
	if cfg.Jcmd == "" || pid == 0 {
		return 0
	}
	out, err := exec.Command(cfg.Jcmd, strconv.Itoa(pid), "GC.heap_info").Output()
	if err != nil {
		return 0
	}
	return parseHeapUsedMB(out)
}

// connectMany opens n receivers spread over the given users, each subscribed to its conversation.
func connectMany(ctx context.Context, ch *chorus, col *collector, us []user, convOf func(i int) string, userOf func(i int) int, n int) ([]*wsClient, error) {
	clients := make([]*wsClient, n)
	err := parallel(n, 64, func(i int) error {
		c, err := ch.dial(ctx, col, us[userOf(i)].token, true)
		if err != nil {
			return fmt.Errorf("connection %d: %w", i, err)
		}
		clients[i] = c
		if err := c.send(ctx, map[string]any{"type": "subscribe", "conversationId": convOf(i)}); err != nil {
			return err
		}
		select {
		case <-c.subscribed:
		case <-time.After(30 * time.Second):
			return fmt.Errorf("connection %d: not subscribed within 30s", i)
		}
		return nil
	})
	return clients, err
}

// connectAll is connectMany that keeps the connections that opened and counts the ones that did not.
func connectAll(ctx context.Context, ch *chorus, col *collector, us []user, convOf func(i int) string, userOf func(i int) int, n int) ([]*wsClient, int) {
	slots := make([]*wsClient, n)
	var failed atomic.Int64
	_ = parallel(n, 64, func(i int) error {
		one, err := connectMany(ctx, ch, col, us, func(int) string { return convOf(i) }, func(int) int { return userOf(i) }, 1)
		if err != nil {
			if failed.Add(1) <= 3 {
				col.errorf("connection %d: %v", i, err)
			}
			return nil
		}
		slots[i] = one[0]
		return nil
	})
	var open []*wsClient
	for _, c := range slots {
		if c != nil {
			open = append(open, c)
		}
	}
	if f := failed.Load(); f > 0 {
		log.Printf("%d of %d connections failed", f, n)
	}
	return open, int(failed.Load())
}

func runRelay(cfg *config) (*Result, error) {
	if cfg.Target != "chorus" {
		return nil, fmt.Errorf("-mode relay needs -target chorus")
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	col := &collector{cfg: cfg}
	ch := newChorus(cfg)
	nConv := (cfg.Clients + cfg.PerConversation - 1) / cfg.PerConversation
	us, err := ch.users(nConv)
	if err != nil {
		return nil, err
	}
	convs, err := ch.conversations(us, nConv)
	if err != nil {
		return nil, err
	}
	apiPid := parsePids(cfg.Pids)["api"]
	gc(cfg, apiPid)
	mem := &Memory{Connections: cfg.Clients, RSSBeforeMB: round3(RSSMB(apiPid))}
	t0 := time.Now()
	clients, err := connectMany(ctx, ch, col, us, func(i int) string { return convs[i%nConv] }, func(i int) int { return i % nConv }, cfg.Clients)
	if err != nil {
		return nil, err
	}
	defer func() {
		for _, c := range clients {
			_ = c.conn.Close(websocket.StatusNormalClosure, "bench done")
		}
	}()
	mem.ConnectSeconds = round3(time.Since(t0).Seconds())
	gc(cfg, apiPid)
	mem.RSSAfterMB = round3(RSSMB(apiPid))
	mem.BytesPerConnection = round3((mem.RSSAfterMB - mem.RSSBeforeMB) * 1024 * 1024 / float64(cfg.Clients))
	log.Printf("%d clients on %d conversations; sending one query per conversation", cfg.Clients, nConv)
	sm := startSampler(parsePids(cfg.Pids))
	started := time.Now()
	sentAt := make([]time.Time, nConv)
	for i := 0; i < nConv; i++ {
		// The first client of each conversation sends; all its clients (itself too) receive, and the
		// sender's own view (made by the conversation subscription) gives the query's TTFT.
		sentAt[i] = time.Now()
		if err := clients[i].send(ctx, map[string]any{"type": "send_message", "conversationId": convs[i], "content": prompt(i),
			"agents": ch.agents(), "clientMessageId": fmt.Sprintf("q%d", i)}); err != nil {
			col.errorf("send: %v", err)
		}
	}
	// Every receiver must see its query end.
	deadline := time.Now().Add(cfg.Timeout)
	for time.Now().Before(deadline) {
		col.mu.Lock()
		done := 0
		for _, v := range col.views {
			if v.closed {
				done++
			}
		}
		all := len(col.views)
		col.mu.Unlock()
		if all >= cfg.Clients && done == all {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	proc := sm.finish()
	var recs []*rec
	for i := 0; i < nConv; i++ {
		c := clients[i]
		c.mu.Lock()
		for _, v := range c.byQuery {
			v.sent = sentAt[i]
			recs = append(recs, v)
		}
		c.mu.Unlock()
	}
	col.mu.Lock()
	col.recs = recs
	completedViews := 0
	for _, v := range col.views {
		if v.closed && v.status == "COMPLETED" {
			completedViews++
		}
	}
	receivers := len(col.views)
	col.mu.Unlock()
	if completedViews < cfg.Clients {
		col.errorf("%d of %d receivers saw their query complete", completedViews, cfg.Clients)
	}
	res := col.result(started, nConv, proc)
	res.Receivers = receivers
	res.Memory = mem
	return res, nil
}

func runIdle(cfg *config) (*Result, error) {
	if cfg.Target != "chorus" {
		return nil, fmt.Errorf("-mode idle needs -target chorus")
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	col := &collector{cfg: cfg}
	ch := newChorus(cfg)
	nUsers := max(1, min(50, cfg.Idle/200))
	us, err := ch.users(nUsers)
	if err != nil {
		return nil, err
	}
	convs, err := ch.conversations(us, nUsers)
	if err != nil {
		return nil, err
	}
	apiPid := parsePids(cfg.Pids)["api"]
	gc(cfg, apiPid)
	mem := &Memory{Connections: cfg.Idle, RSSBeforeMB: round3(RSSMB(apiPid)), HeapBeforeMB: round3(heapUsedMB(cfg, apiPid))}
	sm := startSampler(parsePids(cfg.Pids))
	started := time.Now()
	clients, failed := connectAll(ctx, ch, col, us, func(i int) string { return convs[i%nUsers] }, func(i int) int { return i % nUsers }, cfg.Idle)
	mem.Failed = failed
	mem.ConnectSeconds = round3(time.Since(started).Seconds())
	log.Printf("%d idle connections open after %.1fs; holding %v", cfg.Idle, mem.ConnectSeconds, cfg.Hold)
	time.Sleep(cfg.Hold)
	gc(cfg, apiPid)
	mem.RSSAfterMB = round3(RSSMB(apiPid))
	mem.BytesPerConnection = round3((mem.RSSAfterMB - mem.RSSBeforeMB) * 1024 * 1024 / float64(max(1, len(clients))))
	if mem.HeapBeforeMB > 0 {
		mem.HeapAfterMB = round3(heapUsedMB(cfg, apiPid))
		mem.HeapBytesPerConnection = round3((mem.HeapAfterMB - mem.HeapBeforeMB) * 1024 * 1024 / float64(max(1, len(clients))))
	}
	// Are they still alive? Ping a sample and count pongs.
	sample := rand.Perm(len(clients))[:min(200, len(clients))]
	for _, i := range sample {
		_ = clients[i].send(ctx, map[string]string{"type": "ping"})
	}
	time.Sleep(2 * time.Second)
	for _, i := range sample {
		mem.Pongs += int(min(1, clients[i].pongs.Load()))
	}
	mem.Pinged = len(sample)
	for _, c := range clients {
		if !c.closed.Load() {
			mem.Open++
		}
	}
	proc := sm.finish()
	cancel() // readers stop counting errors: the closes below are ours
	for _, c := range clients {
		_ = c.conn.CloseNow()
	}
	res := col.result(started, 0, proc)
	res.Memory = mem
	return res, nil
}
