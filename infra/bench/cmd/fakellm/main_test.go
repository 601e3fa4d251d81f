package main

import (
	"bufio"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

func newTestServer() *httptest.Server {
	s := &server{def: shape{TTFT: 5 * time.Millisecond, Chunks: 8, ChunkBytes: 16, Interval: time.Millisecond, FailAttempts: -1},
		models: []string{"fake-1"}}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /v1/chat/completions", s.openai)
	mux.HandleFunc("POST /v1/messages", s.anthropic)
	mux.HandleFunc("POST /api/chat", s.ollama)
	return httptest.NewServer(mux)
}

func post(t *testing.T, url, body string) *http.Response {
	t.Helper()
	resp, err := http.Post(url, "application/json", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	return resp
}

// openAIText streams one answer and returns its text, the [DONE] marker and the usage seen.
func openAIText(t *testing.T, base, model, prompt string) (string, bool, int) {
	resp := post(t, base+"/v1/chat/completions",
		`{"model":"`+model+`","stream":true,"messages":[{"role":"user","content":"`+prompt+`"}]}`)
	defer resp.Body.Close()
	var text strings.Builder
	done, usage := false, 0
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		data, ok := strings.CutPrefix(sc.Text(), "data: ")
		if !ok {
			continue
		}
		if data == "[DONE]" {
			done = true
			continue
		}
		var c struct {
			Choices []struct {
				Delta struct{ Content string } `json:"delta"`
			} `json:"choices"`
			Usage *struct {
				CompletionTokens int `json:"completion_tokens"`
			} `json:"usage"`
		}
		if err := json.Unmarshal([]byte(data), &c); err != nil {
			t.Fatalf("bad chunk %q: %v", data, err)
		}
		if len(c.Choices) > 0 {
			text.WriteString(c.Choices[0].Delta.Content)
		}
		if c.Usage != nil {
			usage = c.Usage.CompletionTokens
		}
	}
	return text.String(), done, usage
}

func TestOpenAIStreamIsDeterministicPerPrompt(t *testing.T) {
	ts := newTestServer()
	defer ts.Close()
	a, done, usage := openAIText(t, ts.URL, "fake-1", "why")
	b, _, _ := openAIText(t, ts.URL, "fake-1", "why")
	c, _, _ := openAIText(t, ts.URL, "fake-1", "how")
	if !done || usage == 0 || a == "" {
		t.Fatalf("want text, usage and [DONE]; got %q done=%v usage=%d", a, done, usage)
	}
	if a != b || a == c {
		t.Fatalf("same prompt must give the same text, another prompt another: %q %q %q", a, b, c)
	}
	if want := strings.Join(chunksFor("fake-1\x00user\x00why", 8, 16), ""); a != want {
		t.Fatalf("text %q, want %q", a, want)
	}
}

func TestModelOverridesShapeAndDrop(t *testing.T) {
	ts := newTestServer()
	defer ts.Close()
	text, _, _ := openAIText(t, ts.URL, "fake-1?chunks=3", "x")
	if want := strings.Join(chunksFor("fake-1?chunks=3\x00user\x00x", 3, 16), ""); text != want {
		t.Fatalf("chunks=3: %q, want %q", text, want)
	}
	_, done, _ := openAIText(t, ts.URL, "fake-1?dropAfter=2", "x")
	if done {
		t.Fatal("dropAfter must end the stream without [DONE]")
	}
	resp := post(t, ts.URL+"/v1/chat/completions", `{"model":"fake-1?status=429&retryAfter=3","stream":true,"messages":[]}`)
	resp.Body.Close()
	if resp.StatusCode != 429 || resp.Header.Get("Retry-After") != "3" {
		t.Fatalf("status=429: got %d Retry-After %q", resp.StatusCode, resp.Header.Get("Retry-After"))
	}
}

func TestAnthropicAndOllamaEndWithTheirMarkers(t *testing.T) {
	ts := newTestServer()
	defer ts.Close()
	body := `{"model":"fake-1","stream":true,"messages":[{"role":"user","content":"hi"}]}`
	resp := post(t, ts.URL+"/v1/messages", body)
	b := new(strings.Builder)
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		b.WriteString(sc.Text() + "\n")
	}
	resp.Body.Close()
	if !strings.Contains(b.String(), "event: message_stop") || strings.Count(b.String(), "text_delta") != 8 {
		t.Fatalf("anthropic stream: %s", b)
	}
	resp = post(t, ts.URL+"/api/chat", `{"model":"fake-1","messages":[{"role":"user","content":"hi"}]}`)
	defer resp.Body.Close()
	var lines []map[string]any
	sc = bufio.NewScanner(resp.Body)
	for sc.Scan() {
		var m map[string]any
		if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
			t.Fatal(err)
		}
		lines = append(lines, m)
	}
	if len(lines) != 9 || lines[8]["done"] != true || lines[8]["eval_count"] == nil {
		t.Fatalf("ollama: %d lines, last %v", len(lines), lines[len(lines)-1])
	}
}
