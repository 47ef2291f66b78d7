package testkit

import (
	"bytes"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"
)

func TestBufferConcurrent(t *testing.T) {
	var b Buffer
	var wg sync.WaitGroup
	for i := range 4 {
		wg.Go(func() {
			for range 100 {
				fmt.Fprintf(&b, "%d", i)
				_ = b.String()
			}
		})
	}
	wg.Wait()
	if n := len(b.String()); n != 400 {
		t.Errorf("%d bytes, want 400", n)
	}
}

func TestDiscardLogger(t *testing.T) {
	if DiscardLogger().Enabled(t.Context(), 12) {
		t.Error("the discard logger is enabled")
	}
}

func TestFreeAddr(t *testing.T) {
	l, err := net.Listen("tcp", FreeAddr(t))
	if err != nil {
		t.Fatal(err)
	}
	l.Close()
}

func TestDo(t *testing.T) {
	srv := NewServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, `{"ct":%q,"auth":%q,"n":%d}`, strings.Join(r.Header.Values("Content-Type"), ","), r.Header.Get("Authorization"), r.ContentLength)
	}))
	for _, tc := range []struct {
		body    string
		headers []string
		want    string
	}{
		{"", nil, `{"ct":"","auth":"","n":0}`},
		{"{}", []string{Bearer("tok")}, `{"ct":"application/json","auth":"Bearer tok","n":2}`},
		{"{}", []string{Bearer(""), "Content-Type: text/plain"}, `{"ct":"application/json,text/plain","auth":"","n":2}`},
		{"{}", []string{"Content-Type: ", "Content-Type: application/wasm"}, `{"ct":"application/wasm","auth":"","n":2}`},
		{"{}", []string{"Content-Type:"}, `{"ct":"","auth":"","n":2}`},
	} {
		r := Do(t, srv, "POST", "/", tc.body, tc.headers...)
		if string(r.Bytes) != tc.want || r.StatusCode != 200 {
			t.Errorf("%q %q: %d %s, want %s", tc.body, tc.headers, r.StatusCode, r.Bytes, tc.want)
		}
		if r.Object(t)["ct"] == nil {
			t.Errorf("Object: no ct in %s", r.Bytes)
		}
	}
}

func TestBuildWithoutMain(t *testing.T) {
	if _, err := buildOf("./nothing"); err == nil {
		t.Error("Build without Main: no error")
	}
}

func TestClock(t *testing.T) {
	start := time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)
	c := NewClock(start)
	c.Advance(time.Minute)
	if got := c.Now(); !got.Equal(start.Add(time.Minute)) {
		t.Errorf("Now %v", got)
	}
}

func TestRandIsSeeded(t *testing.T) {
	a, b, c := make([]byte, 16), make([]byte, 16), make([]byte, 16)
	io.ReadFull(Rand(1), a)
	io.ReadFull(Rand(1), b)
	io.ReadFull(Rand(2), c)
	if !bytes.Equal(a, b) || bytes.Equal(a, c) {
		t.Errorf("seed 1: %x, %x; seed 2: %x", a, b, c)
	}
}

func TestRecorder(t *testing.T) {
	var r Recorder[int]
	var wg sync.WaitGroup
	for i := range 4 {
		wg.Go(func() {
			for j := range 100 {
				r.Add(i*100 + j)
				_ = r.All()
			}
		})
	}
	wg.Wait()
	if n := len(r.All()); n != 400 {
		t.Errorf("All holds %d values, want 400", n)
	}
	if n := len(r.Take()); n != 400 {
		t.Errorf("Take returned %d values, want 400", n)
	}
	if vs := r.Take(); len(vs) != 0 {
		t.Errorf("a second Take returned %v, want nothing", vs)
	}
	r.Add(7)
	all := r.All()
	all[0] = 8
	if vs := r.Take(); len(vs) != 1 || vs[0] != 7 {
		t.Errorf("Take after Add(7) and a change to a copy = %v, want [7]", vs)
	}
}

func TestSilentServer(t *testing.T) {
	c, err := net.Dial("tcp", SilentServer(t))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if _, err := c.Write([]byte("PING\r\n")); err != nil {
		t.Fatalf("write: %v", err)
	}
	c.SetReadDeadline(time.Now().Add(200 * time.Millisecond))
	var b [1]byte
	n, err := c.Read(b[:])
	if ne, ok := err.(net.Error); n != 0 || !ok || !ne.Timeout() {
		t.Errorf("read from a silent server = %d bytes, %v; want a timeout", n, err)
	}
}

func TestEventually(t *testing.T) {
	n := 0
	Eventually(t, time.Minute, "the third poll", func() bool { n++; return n == 3 })
	if n != 3 {
		t.Errorf("cond was polled %d times, want 3", n)
	}
}

func TestDialer(t *testing.T) {
	srv := NewServer(t, http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { fmt.Fprint(w, "hello") }))
	if _, err := (&Dialer{}).DialContext(t.Context(), "tcp", "203.0.113.10:443"); err == nil {
		t.Error("a public address without a StandIn was dialled")
	}
	d := &Dialer{StandIn: srv.Listener.Addr().String()}
	client := &http.Client{Transport: &http.Transport{DialContext: d.DialContext}}
	resp, err := client.Get("http://203.0.113.10/")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if string(body) != "hello" {
		t.Errorf("body %q, want the stand-in's", body)
	}
	if got := d.Dials(); len(got) != 1 || got[0] != "203.0.113.10:80" {
		t.Errorf("dials %v", got)
	}
	if n := d.BytesRead(); n < int64(len("hello")) {
		t.Errorf("BytesRead = %d, want at least the body's %d", n, len("hello"))
	}
}
