package mailcatcher

import (
	"context"
	"net/smtp"
	"strings"
	"testing"
	"time"

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
