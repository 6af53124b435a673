package api_test

import (
	"bufio"
	"errors"
	"io"
	"net"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/breachflow/breachflow/api"
)

// serveWithTimeouts serves a handler that reads the whole body and, on
// /slow, answers after a second, with short timeouts.
func serveWithTimeouts(t *testing.T, to api.HTTPTimeouts) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := api.NewHTTPServer("", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if _, err := io.Copy(io.Discard, r.Body); err != nil {
			return
		}
		if r.URL.Path == "/slow" {
			time.Sleep(time.Second)
		}
		_, _ = io.WriteString(w, "ok")
	}), to)
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(func() { _ = srv.Close() })
	return ln.Addr().String()
}

// closedWithin reads from conn until the server closes it, failing when
// it is still open after d.
func closedWithin(t *testing.T, conn net.Conn, d time.Duration) {
	t.Helper()
	_ = conn.SetReadDeadline(time.Now().Add(d))
	_, err := io.Copy(io.Discard, conn)
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() || errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("the server kept the connection open for %s", d)
	}
}

func TestHTTPTimeouts(t *testing.T) {
	short := api.HTTPTimeouts{ReadHeader: 200 * time.Millisecond, Read: 400 * time.Millisecond,
		Write: 300 * time.Millisecond, Idle: 300 * time.Millisecond}
	addr := serveWithTimeouts(t, short)
	dial := func(t *testing.T) net.Conn {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = c.Close() })
		return c
	}
	t.Run("headers sent slowly", func(t *testing.T) {
		c := dial(t)
		_, _ = io.WriteString(c, "GET / HTTP/1.1\r\nHost: x\r\n") // and never the blank line
		closedWithin(t, c, 3*time.Second)
	})
	t.Run("body sent slowly", func(t *testing.T) {
		c := dial(t)
		_, _ = io.WriteString(c, "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n\r\npart")
		closedWithin(t, c, 3*time.Second)
	})
	t.Run("idle keep-alive", func(t *testing.T) {
		c := dial(t)
		_, _ = io.WriteString(c, "GET / HTTP/1.1\r\nHost: x\r\n\r\n")
		res, err := http.ReadResponse(bufio.NewReader(c), nil)
		if err != nil || res.StatusCode != 200 {
			t.Fatalf("first request: %v %v", res, err)
		}
		closedWithin(t, c, 3*time.Second)
	})
	t.Run("answer past the write timeout", func(t *testing.T) {
		res, err := http.Get("http://" + addr + "/slow")
		if err == nil {
			body, _ := io.ReadAll(res.Body)
			res.Body.Close()
			if strings.Contains(string(body), "ok") {
				t.Fatal("an answer written after the write timeout reached the client")
			}
		}
	})
	t.Run("defaults set every timeout", func(t *testing.T) {
		d := api.DefaultHTTPTimeouts()
		if d.ReadHeader <= 0 || d.Read <= 0 || d.Write <= 0 || d.Idle <= 0 {
			t.Fatalf("DefaultHTTPTimeouts() = %+v: a zero timeout is no timeout", d)
		}
	})
}
