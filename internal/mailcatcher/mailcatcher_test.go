package mailcatcher

import (
	"bytes"
	"context"
	"fmt"
	"net/smtp"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/breachflow/breachflow/internal/codec"
	"github.com/jordan-wright/email"
)

func TestCatchesMailOverSMTP(t *testing.T) {
	c, err := Start("127.0.0.1:0", 2)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close(context.Background())
	for i, subject := range []string{"first", "Notice of Data Breach", "数据泄露通知"} {
		e := email.NewEmail()
		e.From = "security@localhost"
		e.To = []string{"someone@example.com"}
		e.Subject = subject
		e.Text = []byte("body")
		e.Headers.Set("Message-Id", "<n"+string(rune('0'+i))+"@breachflow>")
		if err := e.Send(c.Addr(), smtp.PlainAuth("", "u", "p", "127.0.0.1")); err != nil {
			t.Fatalf("send %d: %v", i, err)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	m, err := c.Wait(ctx, func(m Message) bool { return m.Subject == "数据泄露通知" })
	if err != nil {
		t.Fatalf("wait: %v", err)
	}
	if m.MessageID != "<n2@breachflow>" || m.From != "security@localhost" || len(m.To) != 1 || !strings.Contains(string(m.Raw), "body") {
		t.Fatalf("message = %+v", m)
	}
	if got := c.All(); len(got) != 2 || got[0].Subject != "Notice of Data Breach" || c.Total() != 3 {
		t.Fatalf("kept %d (first %q), total %d; want the newest 2 of 3", len(got), got[0].Subject, c.Total())
	}
}

func testKeys(t *testing.T) *codec.Keyring {
	t.Helper()
	spec, err := codec.NewKey("k1")
	if err != nil {
		t.Fatal(err)
	}
	kr, err := codec.ParseKeys(spec)
	if err != nil {
		t.Fatal(err)
	}
	return kr
}

func sendNotice(t *testing.T, addr, to, subject string) {
	t.Helper()
	e := email.NewEmail()
	e.From = "security@localhost"
	e.To = []string{to}
	e.Subject = subject
	e.Text = []byte("Dear customer,\n\nWhat happened: a bucket was public. Café ünïcode — lines longer than seventy-six characters are wrapped by quoted-printable.\n")
	e.HTML = []byte("<p>Dear customer,</p><p>What happened: HTML</p>")
	if err := e.Send(addr, nil); err != nil {
		t.Fatalf("send: %v", err)
	}
}

func TestJournalKeepsMailAcrossRestarts(t *testing.T) {
	keys := testKeys(t)
	j := Journal{Path: filepath.Join(t.TempDir(), "outbox", "mail.jsonl"), Sealer: keys}
	c, err := StartWithJournal("127.0.0.1:0", 3, j)
	if err != nil {
		t.Fatal(err)
	}
	for i := range 5 {
		sendNotice(t, c.Addr(), "dora@example.de", fmt.Sprintf("notice %d", i))
	}
	if err := c.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	raw, err := os.ReadFile(j.Path)
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(raw, []byte("dora")) || bytes.Contains(raw, []byte("bucket")) {
		t.Fatal("the journal holds plaintext mail")
	}
	// A crash mid-write leaves a torn last line; it is skipped.
	if err := os.WriteFile(j.Path, append(raw, []byte(`{"key":"k1","seal`)...), 0o600); err != nil {
		t.Fatal(err)
	}

	c, err = StartWithJournal("127.0.0.1:0", 3, j)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close(context.Background())
	got := c.Messages()
	if len(got) != 3 || got[0].Subject != "notice 4" || got[2].Subject != "notice 2" || got[0].ID != 5 {
		t.Fatalf("after restart: %d messages, newest %+v; want notices 4, 3, 2", len(got), got[0])
	}
	if got[0].To[0] != "dora@example.de" || !strings.Contains(got[0].Text(), "What happened: a bucket was public") {
		t.Fatalf("restored message lost its envelope or body: %+v %q", got[0], got[0].Text())
	}
	sendNotice(t, c.Addr(), "dora@example.de", "notice 5")
	if got := c.Messages(); len(got) != 3 || got[0].ID != 6 || got[0].Subject != "notice 5" {
		t.Fatalf("after a new message: newest %+v; want id 6", got[0])
	}
	// The file was compacted to what is kept, plus the new message.
	raw, _ = os.ReadFile(j.Path)
	if n := bytes.Count(raw, []byte("\n")); n != 4 {
		t.Errorf("journal has %d lines, want 4", n)
	}

	// Another key cannot read it: the lines are skipped, nothing is shown.
	c.Close(context.Background())
	other, err := StartWithJournal("127.0.0.1:0", 3, Journal{Path: j.Path, Sealer: testKeys(t)})
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close(context.Background())
	if n := len(other.Messages()); n != 0 {
		t.Errorf("a foreign key read %d messages", n)
	}
	other.Close(context.Background())
	if again, _ := os.ReadFile(j.Path); !bytes.Equal(again, raw) {
		t.Error("starting with another key rewrote the journal")
	}
}

func TestText(t *testing.T) {
	c, err := Start("127.0.0.1:0", 10)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close(context.Background())
	sendNotice(t, c.Addr(), "a@example.com", "multipart")
	e := email.NewEmail()
	e.From, e.To, e.Subject = "security@localhost", []string{"a@example.com"}, "with attachment"
	e.Text = []byte("see the attached report\n")
	if _, err := e.Attach(strings.NewReader("x,y\n"), "report.csv", "text/csv"); err != nil {
		t.Fatal(err)
	}
	if err := e.Send(c.Addr(), nil); err != nil {
		t.Fatal(err)
	}
	e = email.NewEmail()
	e.From, e.To, e.Subject, e.HTML = "security@localhost", []string{"a@example.com"}, "html only", []byte("<p>hi</p>")
	if err := e.Send(c.Addr(), nil); err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, m := range c.All() {
		got[m.Subject] = m.Text()
	}
	want := "Dear customer,\n\nWhat happened: a bucket was public. Café ünïcode — lines longer than seventy-six characters are wrapped by quoted-printable.\n"
	if got["multipart"] != want {
		t.Errorf("multipart text = %q\nwant %q", got["multipart"], want)
	}
	if got["with attachment"] != "see the attached report\n" {
		t.Errorf("mixed text = %q", got["with attachment"])
	}
	if got["html only"] != "" {
		t.Errorf("html-only text = %q, want none", got["html only"])
	}
}
