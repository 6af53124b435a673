package activities

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/mail"
	"net/smtp"
	"time"

	"github.com/jordan-wright/email"
)

// ErrNoStartTLS is the error of a relay that does not offer STARTTLS when
// the mailer requires it. It is retried: the relay, or whoever stands in
// the way of it, may offer it again.
var ErrNoStartTLS = errors.New("the SMTP relay does not offer STARTTLS; refusing to send in clear text (BREACHFLOW_SMTP_INSECURE allows it)")

// smtpPool keeps up to size SMTP connections open and sends one message
// per turn on one of them. Unlike email.Pool it will not go on in clear
// text when STARTTLS is required and the relay does not offer it — on any
// connection, not just the first.
type smtpPool struct {
	addr       string
	host       string
	auth       smtp.Auth
	tls        *tls.Config
	requireTLS bool
	idle       chan *smtpConn
	slots      chan struct{} // one per open connection
}

// smtpConn is a client and its connection, whose deadline bounds a send.
type smtpConn struct {
	*smtp.Client
	conn net.Conn
}

func newSMTPPool(addr string, size int, auth smtp.Auth, tlsConfig *tls.Config, requireTLS bool) (*smtpPool, error) {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, err
	}
	return &smtpPool{addr: addr, host: host, auth: auth, tls: tlsConfig, requireTLS: requireTLS,
		idle: make(chan *smtpConn, size), slots: make(chan struct{}, size)}, nil
}

// send delivers e on an idle connection, or a new one while fewer than
// size are open. A connection that fails is closed, not reused.
func (p *smtpPool) send(ctx context.Context, e *email.Email) error {
	from, to, msg, err := envelope(e)
	if err != nil {
		return err
	}
	c, err := p.get(ctx)
	if err != nil {
		return err
	}
	if d, ok := ctx.Deadline(); ok {
		_ = c.conn.SetDeadline(d)
	}
	if err := deliver(c.Client, from, to, msg); err != nil {
		p.discard(c)
		return err
	}
	p.idle <- c
	return nil
}

// get returns an idle connection that still answers, or dials one.
func (p *smtpPool) get(ctx context.Context) (*smtpConn, error) {
	for {
		select {
		case c := <-p.idle:
			if d, ok := ctx.Deadline(); ok {
				_ = c.conn.SetDeadline(d)
			}
			if c.Noop() == nil {
				return c, nil
			}
			p.discard(c)
		case p.slots <- struct{}{}:
			c, err := p.dial(ctx)
			if err != nil {
				<-p.slots
				return nil, err
			}
			return c, nil
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
}

func (p *smtpPool) discard(c *smtpConn) {
	_ = c.Close()
	<-p.slots
}

func (p *smtpPool) dial(ctx context.Context) (*smtpConn, error) {
	conn, err := (&net.Dialer{Timeout: 30 * time.Second}).DialContext(ctx, "tcp", p.addr)
	if err != nil {
		return nil, err
	}
	if d, ok := ctx.Deadline(); ok {
		_ = conn.SetDeadline(d)
	}
	c, err := smtp.NewClient(conn, p.host)
	if err != nil {
		_ = conn.Close()
		return nil, err
	}
	if ok, _ := c.Extension("STARTTLS"); ok {
		if err := c.StartTLS(p.tls); err != nil {
			_ = c.Close()
			return nil, err
		}
	} else if p.requireTLS {
		_ = c.Close()
		return nil, ErrNoStartTLS
	}
	if p.auth != nil {
		if ok, _ := c.Extension("AUTH"); ok {
			if err := c.Auth(p.auth); err != nil {
				_ = c.Close()
				return nil, err
			}
		}
	}
	return &smtpConn{Client: c, conn: conn}, nil
}

// close closes the idle connections.
func (p *smtpPool) close() {
	for {
		select {
		case c := <-p.idle:
			_ = c.Quit()
			<-p.slots
		default:
			return
		}
	}
}

func envelope(e *email.Email) (from string, to []string, msg []byte, err error) {
	f, err := mail.ParseAddress(e.From)
	if err != nil {
		return "", nil, nil, fmt.Errorf("from: %w", err)
	}
	for _, list := range [][]string{e.To, e.Cc, e.Bcc} {
		for _, a := range list {
			addr, err := mail.ParseAddress(a)
			if err != nil {
				return "", nil, nil, fmt.Errorf("recipient: %w", err)
			}
			to = append(to, addr.Address)
		}
	}
	if len(to) == 0 {
		return "", nil, nil, errors.New("no recipient")
	}
	msg, err = e.Bytes()
	return f.Address, to, msg, err
}

func deliver(c *smtp.Client, from string, to []string, msg []byte) error {
	if err := c.Mail(from); err != nil {
		return err
	}
	for _, r := range to {
		if err := c.Rcpt(r); err != nil {
			return err
		}
	}
	w, err := c.Data()
	if err != nil {
		return err
	}
	if _, err := w.Write(msg); err != nil {
		return err
	}
	return w.Close()
}
