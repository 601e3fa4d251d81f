// Command fakellm is a fake LLM server for benchmarks and fault tests: it streams deterministic
// text over the OpenAI Chat Completions (SSE), Anthropic Messages (SSE) and Ollama /api/chat
// (NDJSON) wire formats, with a configurable time to first token, chunk count, chunk size and
// interval.
//
//	fakellm -addr 127.0.0.1:18090 -ttft 100ms -chunks 64 -chunk-bytes 16 -interval 20ms
//
// Per request, the model name may override the stream shape, e.g.
// "fake-1?ttft=50ms&chunks=8&interval=5ms&chunkBytes=32", and inject faults:
// "status=500|429|401" (answer with that error; 429 carries Retry-After: retryAfter, default 1),
// "dropAfter=N" (close the connection after N chunks without an end marker),
// "failAttempts=N" (only the first N requests with the same prompt fail; default all).
//
// GET /stats returns counters as JSON; GET /healthz answers "ok".
package main

import (
	"bufio"
	"encoding/json"
	"flag"
	"fmt"
	"hash/fnv"
	"log"
	"math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

type shape struct {
	TTFT         time.Duration
	Chunks       int
	ChunkBytes   int
	Interval     time.Duration
	Status       int
	RetryAfter   int
	DropAfter    int
	FailAttempts int
}

type server struct {
	def      shape
	models   []string
	requests atomic.Int64
	streams  atomic.Int64
	active   atomic.Int64
	chunks   atomic.Int64
	errors   atomic.Int64
	attempts sync.Map // prompt hash -> *atomic.Int64, for failAttempts
}

func main() {
	s := &server{}
	addr := flag.String("addr", "127.0.0.1:18090", "listen address")
	flag.DurationVar(&s.def.TTFT, "ttft", 100*time.Millisecond, "time to first token")
	flag.IntVar(&s.def.Chunks, "chunks", 64, "chunks per answer")
	flag.IntVar(&s.def.ChunkBytes, "chunk-bytes", 16, "approximate bytes per chunk")
	flag.DurationVar(&s.def.Interval, "interval", 20*time.Millisecond, "time between chunks")
	models := flag.String("models", "fake-1,fake-2,fake-3", "comma-separated model ids listed by /v1/models")
	portFile := flag.String("port-file", "", "write the bound port here once listening (for -addr :0)")
	flag.Parse()
	s.def.FailAttempts = -1
	s.models = strings.Split(*models, ",")

	mux := http.NewServeMux()
	mux.HandleFunc("POST /v1/chat/completions", s.openai)
	mux.HandleFunc("POST /chat/completions", s.openai)
	mux.HandleFunc("POST /v1/messages", s.anthropic)
	mux.HandleFunc("POST /api/chat", s.ollama)
	mux.HandleFunc("GET /v1/models", s.listModels)
	mux.HandleFunc("GET /models", s.listModels)
	mux.HandleFunc("GET /api/tags", s.ollamaTags)
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) { fmt.Fprintln(w, "ok") })
	mux.HandleFunc("GET /stats", s.stats)

	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		log.Fatalf("fakellm: %v", err)
	}
	if *portFile != "" {
		port := ln.Addr().(*net.TCPAddr).Port
		if err := os.WriteFile(*portFile, []byte(strconv.Itoa(port)+"\n"), 0o644); err != nil {
			log.Fatalf("fakellm: %v", err)
		}
	}
	log.Printf("fakellm: listening on %s (ttft %v, %d chunks of ~%d bytes every %v)",
		ln.Addr(), s.def.TTFT, s.def.Chunks, s.def.ChunkBytes, s.def.Interval)
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	go func() {
		sig := make(chan os.Signal, 1)
		signal.Notify(sig, syscall.SIGINT, syscall.SIGTERM)
		<-sig
		_ = srv.Close()
	}()
	if err := srv.Serve(ln); err != nil && err != http.ErrServerClosed {
		log.Fatalf("fakellm: %v", err)
	}
}

// request is the union of the three request bodies, as far as the fake needs them.
type request struct {
	Model    string `json:"model"`
	Stream   *bool  `json:"stream"`
	System   any    `json:"system"`
	Messages []struct {
		Role    string `json:"role"`
		Content any    `json:"content"`
	} `json:"messages"`
}

// prompt is every message's text, so the answer is a function of the whole conversation.
func (r *request) prompt() string {
	var b strings.Builder
	b.WriteString(r.Model)
	for _, m := range r.Messages {
		b.WriteString("\x00" + m.Role + "\x00")
		b.WriteString(textOf(m.Content))
	}
	return b.String()
}

func textOf(content any) string {
	switch c := content.(type) {
	case string:
		return c
	case []any: // content blocks: [{"type":"text","text":"..."}]
		var b strings.Builder
		for _, part := range c {
			if m, ok := part.(map[string]any); ok {
				if t, ok := m["text"].(string); ok {
					b.WriteString(t)
				}
			}
		}
		return b.String()
	}
	return ""
}

// parse reads the body and the model's overrides; on failure it has written the error.
func (s *server) parse(w http.ResponseWriter, r *http.Request) (*request, shape, bool) {
	s.requests.Add(1)
	var req request
	if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 8<<20)).Decode(&req); err != nil {
		s.errors.Add(1)
		http.Error(w, `{"error":{"message":"bad json: `+strings.ReplaceAll(err.Error(), `"`, `'`)+`","type":"invalid_request_error"}}`, http.StatusBadRequest)
		return nil, shape{}, false
	}
	sh := s.def
	if i := strings.IndexByte(req.Model, '?'); i >= 0 {
		q, err := url.ParseQuery(req.Model[i+1:])
		if err == nil {
			dur := func(k string, d *time.Duration) {
				if v := q.Get(k); v != "" {
					if p, err := time.ParseDuration(v); err == nil {
						*d = p
					}
				}
			}
			num := func(k string, n *int) {
				if v := q.Get(k); v != "" {
					if p, err := strconv.Atoi(v); err == nil {
						*n = p
					}
				}
			}
			dur("ttft", &sh.TTFT)
			dur("interval", &sh.Interval)
			num("chunks", &sh.Chunks)
			num("chunkBytes", &sh.ChunkBytes)
			num("status", &sh.Status)
			num("retryAfter", &sh.RetryAfter)
			num("dropAfter", &sh.DropAfter)
			num("failAttempts", &sh.FailAttempts)
		}
	}
	if sh.Chunks < 0 || sh.Chunks > 100000 || sh.ChunkBytes < 1 || sh.ChunkBytes > 65536 {
		s.errors.Add(1)
		http.Error(w, `{"error":{"message":"chunks must be 0..100000 and chunkBytes 1..65536","type":"invalid_request_error"}}`, http.StatusBadRequest)
		return nil, shape{}, false
	}
	if sh.Status != 0 || sh.DropAfter > 0 {
		if sh.FailAttempts >= 0 && !s.shouldFail(req.prompt(), sh.FailAttempts) {
			sh.Status, sh.DropAfter = 0, 0
		}
	}
	if sh.Status != 0 {
		s.errors.Add(1)
		if sh.Status == http.StatusTooManyRequests {
			ra := sh.RetryAfter
			if ra <= 0 {
				ra = 1
			}
			w.Header().Set("Retry-After", strconv.Itoa(ra))
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(sh.Status)
		fmt.Fprintf(w, `{"error":{"message":"injected status %d","type":"fake_error"}}`, sh.Status)
		return nil, shape{}, false
	}
	return &req, sh, true
}

// shouldFail counts requests per prompt: the first n fail, later ones succeed.
func (s *server) shouldFail(prompt string, n int) bool {
	v, _ := s.attempts.LoadOrStore(hash(prompt), new(atomic.Int64))
	return v.(*atomic.Int64).Add(1) <= int64(n)
}

func hash(s string) uint64 {
	h := fnv.New64a()
	h.Write([]byte(s))
	return h.Sum64()
}

var words = strings.Fields(`the a of to and in that is for it as with was on be by this are or from
at which but not have has an they you were their one all we can her there been if more when will
would who so no stream token river light signal durable answer query worker relay chunk latency
ordered replay cursor quorum agent model chorus temporal redis postgres sky blue because sunlight
scatters shorter wavelengths more strongly café naïve über 若水 🎵`)

// chunksFor is the deterministic answer to a prompt: n chunks of about size bytes each, cut at
// word boundaries where possible. Same prompt and shape, same chunks.
func chunksFor(prompt string, n, size int) []string {
	rng := rand.New(rand.NewPCG(hash(prompt), uint64(n)<<20|uint64(size)))
	out := make([]string, n)
	for i := range out {
		var b strings.Builder
		for b.Len() < size {
			w := words[rng.IntN(len(words))]
			if b.Len()+len(w)+1 > size && b.Len() > 0 {
				break
			}
			b.WriteString(w)
			b.WriteByte(' ')
		}
		out[i] = b.String()
	}
	return out
}

func estimateTokens(s string) int { return (len(s) + 3) / 4 }

// emitter writes one streamed answer: first token after TTFT, then one chunk per interval.
// It returns false when the client went away or the stream was dropped on purpose.
func (s *server) emit(w http.ResponseWriter, r *http.Request, sh shape, prompt string, write func(i int, chunk string) error) bool {
	s.streams.Add(1)
	s.active.Add(1)
	defer s.active.Add(-1)
	fl, _ := w.(http.Flusher)
	chunks := chunksFor(prompt, sh.Chunks, sh.ChunkBytes)
	start := time.Now()
	for i, c := range chunks {
		// Sleep to an absolute schedule so slow writes do not stretch the whole stream.
		due := start.Add(sh.TTFT + time.Duration(i)*sh.Interval)
		if d := time.Until(due); d > 0 {
			t := time.NewTimer(d)
			select {
			case <-r.Context().Done():
				t.Stop()
				return false
			case <-t.C:
			}
		}
		if sh.DropAfter > 0 && i >= sh.DropAfter {
			s.dropConnection(w)
			return false
		}
		if err := write(i, c); err != nil {
			return false
		}
		if fl != nil {
			fl.Flush()
		}
		s.chunks.Add(1)
	}
	if len(chunks) == 0 && sh.TTFT > 0 {
		time.Sleep(sh.TTFT)
	}
	return true
}

// dropConnection closes the TCP connection mid-stream, as a crashed provider would.
func (s *server) dropConnection(w http.ResponseWriter) {
	s.errors.Add(1)
	if hj, ok := w.(http.Hijacker); ok {
		if conn, _, err := hj.Hijack(); err == nil {
			_ = conn.Close()
			return
		}
	}
	panic(http.ErrAbortHandler)
}

func streaming(req *request, def bool) bool {
	if req.Stream == nil {
		return def
	}
	return *req.Stream
}

func sse(w http.ResponseWriter) *bufio.Writer {
	w.Header().Set("Content-Type", "text/event-stream")
	w.Header().Set("Cache-Control", "no-cache")
	w.WriteHeader(http.StatusOK)
	return bufio.NewWriterSize(w, 4096)
}

func (s *server) openai(w http.ResponseWriter, r *http.Request) {
	req, sh, ok := s.parse(w, r)
	if !ok {
		return
	}
	prompt := req.prompt()
	id := fmt.Sprintf("chatcmpl-%016x", hash(prompt)^uint64(time.Now().UnixNano()))
	created := time.Now().Unix()
	inTok := estimateTokens(prompt)
	if !streaming(req, false) {
		text := strings.Join(chunksFor(prompt, sh.Chunks, sh.ChunkBytes), "")
		time.Sleep(sh.TTFT + time.Duration(max(sh.Chunks-1, 0))*sh.Interval)
		writeJSON(w, map[string]any{
			"id": id, "object": "chat.completion", "created": created, "model": req.Model,
			"choices": []any{map[string]any{"index": 0, "message": map[string]any{"role": "assistant", "content": text}, "finish_reason": "stop"}},
			"usage":   map[string]any{"prompt_tokens": inTok, "completion_tokens": estimateTokens(text), "total_tokens": inTok + estimateTokens(text)},
		})
		return
	}
	bw := sse(w)
	out := 0
	chunk := func(delta map[string]any, finish any) map[string]any {
		return map[string]any{"id": id, "object": "chat.completion.chunk", "created": created, "model": req.Model,
			"choices": []any{map[string]any{"index": 0, "delta": delta, "finish_reason": finish}}}
	}
	send := func(v any) error {
		b, _ := json.Marshal(v)
		bw.WriteString("data: ")
		bw.Write(b)
		bw.WriteString("\n\n")
		return bw.Flush()
	}
	if !s.emit(w, r, sh, prompt, func(i int, c string) error {
		out += estimateTokens(c)
		d := map[string]any{"content": c}
		if i == 0 {
			d["role"] = "assistant"
		}
		return send(chunk(d, nil))
	}) {
		return
	}
	_ = send(chunk(map[string]any{}, "stop"))
	_ = send(map[string]any{"id": id, "object": "chat.completion.chunk", "created": created, "model": req.Model,
		"choices": []any{}, "usage": map[string]any{"prompt_tokens": inTok, "completion_tokens": out, "total_tokens": inTok + out}})
	bw.WriteString("data: [DONE]\n\n")
	_ = bw.Flush()
}

func (s *server) anthropic(w http.ResponseWriter, r *http.Request) {
	req, sh, ok := s.parse(w, r)
	if !ok {
		return
	}
	prompt := textOf(req.System) + req.prompt()
	id := fmt.Sprintf("msg_%016x", hash(prompt)^uint64(time.Now().UnixNano()))
	inTok := estimateTokens(prompt)
	if !streaming(req, false) {
		text := strings.Join(chunksFor(prompt, sh.Chunks, sh.ChunkBytes), "")
		time.Sleep(sh.TTFT + time.Duration(max(sh.Chunks-1, 0))*sh.Interval)
		writeJSON(w, map[string]any{"id": id, "type": "message", "role": "assistant", "model": req.Model,
			"content": []any{map[string]any{"type": "text", "text": text}}, "stop_reason": "end_turn",
			"usage": map[string]any{"input_tokens": inTok, "output_tokens": estimateTokens(text)}})
		return
	}
	bw := sse(w)
	send := func(event string, v any) error {
		b, _ := json.Marshal(v)
		fmt.Fprintf(bw, "event: %s\ndata: %s\n\n", event, b)
		return bw.Flush()
	}
	_ = send("message_start", map[string]any{"type": "message_start", "message": map[string]any{
		"id": id, "type": "message", "role": "assistant", "model": req.Model, "content": []any{},
		"stop_reason": nil, "usage": map[string]any{"input_tokens": inTok, "output_tokens": 1}}})
	_ = send("content_block_start", map[string]any{"type": "content_block_start", "index": 0,
		"content_block": map[string]any{"type": "text", "text": ""}})
	out := 0
	if !s.emit(w, r, sh, prompt, func(_ int, c string) error {
		out += estimateTokens(c)
		return send("content_block_delta", map[string]any{"type": "content_block_delta", "index": 0,
			"delta": map[string]any{"type": "text_delta", "text": c}})
	}) {
		return
	}
	_ = send("content_block_stop", map[string]any{"type": "content_block_stop", "index": 0})
	_ = send("message_delta", map[string]any{"type": "message_delta",
		"delta": map[string]any{"stop_reason": "end_turn", "stop_sequence": nil},
		"usage": map[string]any{"output_tokens": out}})
	_ = send("message_stop", map[string]any{"type": "message_stop"})
}

func (s *server) ollama(w http.ResponseWriter, r *http.Request) {
	req, sh, ok := s.parse(w, r)
	if !ok {
		return
	}
	prompt := req.prompt()
	inTok := estimateTokens(prompt)
	now := func() string { return time.Now().UTC().Format(time.RFC3339Nano) }
	start := time.Now()
	if !streaming(req, true) {
		text := strings.Join(chunksFor(prompt, sh.Chunks, sh.ChunkBytes), "")
		time.Sleep(sh.TTFT + time.Duration(max(sh.Chunks-1, 0))*sh.Interval)
		writeJSON(w, map[string]any{"model": req.Model, "created_at": now(),
			"message": map[string]any{"role": "assistant", "content": text}, "done": true, "done_reason": "stop",
			"prompt_eval_count": inTok, "eval_count": estimateTokens(text), "total_duration": time.Since(start).Nanoseconds()})
		return
	}
	w.Header().Set("Content-Type", "application/x-ndjson")
	w.WriteHeader(http.StatusOK)
	bw := bufio.NewWriterSize(w, 4096)
	send := func(v any) error {
		b, _ := json.Marshal(v)
		bw.Write(b)
		bw.WriteByte('\n')
		return bw.Flush()
	}
	out := 0
	if !s.emit(w, r, sh, prompt, func(_ int, c string) error {
		out += estimateTokens(c)
		return send(map[string]any{"model": req.Model, "created_at": now(),
			"message": map[string]any{"role": "assistant", "content": c}, "done": false})
	}) {
		return
	}
	_ = send(map[string]any{"model": req.Model, "created_at": now(),
		"message": map[string]any{"role": "assistant", "content": ""}, "done": true, "done_reason": "stop",
		"prompt_eval_count": inTok, "eval_count": out, "total_duration": time.Since(start).Nanoseconds()})
}

func (s *server) listModels(w http.ResponseWriter, _ *http.Request) {
	data := make([]any, 0, len(s.models))
	for _, m := range s.models {
		data = append(data, map[string]any{"id": m, "object": "model", "created": 1700000000, "owned_by": "fakellm",
			"type": "model", "display_name": m})
	}
	writeJSON(w, map[string]any{"object": "list", "data": data, "has_more": false})
}

func (s *server) ollamaTags(w http.ResponseWriter, _ *http.Request) {
	ms := make([]any, 0, len(s.models))
	for _, m := range s.models {
		ms = append(ms, map[string]any{"name": m, "model": m, "modified_at": "2026-01-01T00:00:00Z", "size": 1})
	}
	writeJSON(w, map[string]any{"models": ms})
}

func (s *server) stats(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, map[string]any{"requests": s.requests.Load(), "streams": s.streams.Load(),
		"activeStreams": s.active.Load(), "chunks": s.chunks.Load(), "errors": s.errors.Load(),
		"ttftMs": s.def.TTFT.Milliseconds(), "chunksPerAnswer": s.def.Chunks, "chunkBytes": s.def.ChunkBytes,
		"intervalMs": s.def.Interval.Milliseconds()})
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(v)
}
