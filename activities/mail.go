package activities

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/smtp"
	"net/textproto"
	"regexp"
	"strings"
	"sync"
	"time"

	"github.com/breachflow/breachflow/internal/breach"
	"github.com/jordan-wright/email"
	"go.temporal.io/sdk/temporal"
)

// Mailer sends breachflow's own mail (reminders, escalations) to staff
// through the configured SMTP relay. Recipients are looked up by role at
// send time, so staff addresses never enter workflow history either.
type Mailer struct {
	Addr     string // host:port
	User     string
	Password string
	TLS      string // none | starttls | tls
	From     string
	// Notify maps a role (legal, responder, admin) to addresses.
	Notify map[string][]string
	// PoolSize is how many SMTP connections the pool keeps (0 = 4).
	PoolSize int
	// Insecure lets mail go in clear text: TLS "starttls" goes on without
	// it when the relay does not offer STARTTLS (BREACHFLOW_SMTP_INSECURE,
	// and dev's own catcher). Otherwise "starttls" fails such a relay.
	Insecure bool

	once sync.Once
	pool *smtpPool
	err  error
}

// ParseNotify reads BREACHFLOW_NOTIFY: "legal=lena@example.com;lee@example.com,admin=ciso@example.com".
func ParseNotify(spec string) (map[string][]string, error) {
	out := map[string][]string{}
	for _, part := range strings.Split(spec, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		role, addrs, ok := strings.Cut(part, "=")
		if !ok || (role != "legal" && role != "responder" && role != "admin") {
			return nil, fmt.Errorf("%q: want role=address;address with role legal, responder or admin", part)
		}
		for _, a := range strings.Split(addrs, ";") {
			a = strings.TrimSpace(a)
			if !strings.Contains(a, "@") {
				return nil, fmt.Errorf("%q is not an email address", a)
			}
			out[role] = append(out[role], a)
		}
	}
	return out, nil
}

// StaffMail is one message to the people holding some roles.
type StaffMail struct {
	IncidentID string   `json:"incident_id"`
	Key        string   `json:"key"` // makes the Message-ID: a retry repeats the same id
	Roles      []string `json:"roles"`
	Subject    string   `json:"subject"`
	Text       string   `json:"text"`
	HTML       string   `json:"html,omitempty"`
	// Restricted: the mail goes only to the addresses of Roles that are
	// among Members (compared case-insensitively), and, when none is, to
	// the admin role's addresses, so a restricted incident's clocks still
	// reach someone who may see it, and nobody else.
	Restricted bool     `json:"restricted,omitempty"`
	Members    []string `json:"members,omitempty"`
}

// MailResult says who got a message (by role and count, no addresses).
type MailResult struct {
	MessageID  string `json:"message_id"`
	Recipients int    `json:"recipients"`
}

// ErrNoRecipients is returned when no address is configured for any role.
var ErrNoRecipients = errors.New("no recipients configured for these roles (BREACHFLOW_NOTIFY)")

// SendStaffMail is the activity that sends one reminder or escalation.
func (m *Mailer) SendStaffMail(ctx context.Context, in StaffMail) (*MailResult, error) {
	member := map[string]bool{}
	for _, p := range in.Members {
		member[strings.ToLower(p)] = true
	}
	collect := func(roles []string) []string {
		var to []string
		seen := map[string]bool{}
		for _, r := range roles {
			for _, a := range m.Notify[r] {
				if !seen[a] && (!in.Restricted || member[strings.ToLower(a)] || r == breach.RoleAdmin) {
					seen[a] = true
					to = append(to, a)
				}
			}
		}
		return to
	}
	to := collect(in.Roles)
	if len(to) == 0 && in.Restricted {
		to = collect([]string{breach.RoleAdmin})
	}
	if len(to) == 0 {
		return nil, temporal.NewNonRetryableApplicationError(ErrNoRecipients.Error(), "NoRecipients", ErrNoRecipients)
	}
	if m.Addr == "" {
		return nil, temporal.NewNonRetryableApplicationError("no SMTP relay configured (BREACHFLOW_SMTP_ADDR)", "NoSMTP", nil)
	}
	e := email.NewEmail()
	e.From = m.From
	e.To = to
	e.Subject = in.Subject
	e.Text = []byte(in.Text)
	if in.HTML != "" {
		e.HTML = []byte(in.HTML)
	}
	id := "<" + in.Key + "@breachflow>"
	e.Headers = textproto.MIMEHeader{}
	e.Headers.Set("Message-Id", id)
	e.Headers.Set("X-Breachflow-Incident", in.IncidentID)
	if err := m.send(ctx, e); err != nil {
		return nil, err
	}
	return &MailResult{MessageID: id, Recipients: len(to)}, nil
}

func (m *Mailer) auth() smtp.Auth {
	if m.User == "" {
		return nil
	}
	host, _, _ := net.SplitHostPort(m.Addr)
	return smtp.PlainAuth("", m.User, m.Password, host)
}

// SendEmail sends one prepared message through the pool (or implicit TLS).
// Permanent SMTP failures come back as non-retryable errors.
func (m *Mailer) SendEmail(ctx context.Context, e *email.Email) error {
	if m.Addr == "" {
		return temporal.NewNonRetryableApplicationError("no SMTP relay configured (BREACHFLOW_SMTP_ADDR)", "NoSMTP", nil)
	}
	return m.send(ctx, e)
}

func (m *Mailer) send(ctx context.Context, e *email.Email) error {
	host, _, _ := net.SplitHostPort(m.Addr)
	timeout := 30 * time.Second
	if d, ok := ctx.Deadline(); ok {
		timeout = time.Until(d)
	}
	if m.TLS == "tls" {
		return classify(e.SendWithTLS(m.Addr, m.auth(), &tls.Config{ServerName: host}))
	}
	m.once.Do(func() {
		size := m.PoolSize
		if size <= 0 {
			size = 4
		}
		// "none" still takes STARTTLS when offered, as before.
		m.pool, m.err = newSMTPPool(m.Addr, size, m.auth(), &tls.Config{ServerName: host}, m.TLS == "starttls" && !m.Insecure)
	})
	if m.err != nil {
		return fmt.Errorf("smtp pool: %w", m.err)
	}
	sctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	return classify(m.pool.send(sctx, e))
}

// classify marks permanent SMTP failures (5xx) as non-retryable; 4xx and
// network errors are retried by Temporal. Addresses quoted in the reply are
// removed: the error text reaches workflow history and the store.
func classify(err error) error {
	if err == nil {
		return nil
	}
	var tp *textproto.Error
	if errors.As(err, &tp) && tp.Code >= 500 {
		return temporal.NewNonRetryableApplicationError(fmt.Sprintf("smtp %d: %s", tp.Code, RedactAddresses(tp.Msg)), "SMTPRejected", nil)
	}
	return errors.New("smtp: " + RedactAddresses(err.Error()))
}

// addressPattern matches anything shaped like an email address.
var addressPattern = regexp.MustCompile(`[^\s<>"'@,;:()\[\]]+@[^\s<>"'@,;:()\[\]]+`)

// RedactAddresses removes email addresses from text such as an SMTP reply
// ("550 5.1.1 <ann@example.com>: user unknown") before it is stored,
// logged or put in workflow history.
func RedactAddresses(s string) string {
	return addressPattern.ReplaceAllString(s, "[address]")
}

// Close releases pooled SMTP connections.
func (m *Mailer) Close() {
	if m.pool != nil {
		m.pool.close()
	}
}

// ClockMail asks for a reminder, overdue notice or escalation about one
// clock. The workflow names the roles; the notify activity renders the
// message and looks the addresses up.
type ClockMail struct {
	IncidentID string    `json:"incident_id"`
	Key        string    `json:"key"`
	Kind       string    `json:"kind"` // reminder | overdue | escalation
	Title      string    `json:"title"`
	Subject    string    `json:"subject"`
	DueAt      time.Time `json:"due_at"`
	Now        time.Time `json:"now"`
	Roles      []string  `json:"roles"`
	// Restricted incidents mail only the role addresses that are Members;
	// when none is, the admins (see StaffMail).
	Restricted bool     `json:"restricted,omitempty"`
	Members    []string `json:"members,omitempty"`
}
