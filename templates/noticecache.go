package templates

import (
	"html/template"
	"strconv"
	"strings"
	"sync"
	"time"
)

// NoticeCache renders the notices of one send, where every input but the
// recipient's name, locale and data elements is the same, once per locale
// and set of data elements, and puts each name in afterwards — escaped for
// the HTML part exactly as html/template escapes it, as written in the
// text part. Rendering is most of a notice's cost; a batch of two hundred
// customers in two locales renders twice instead of two hundred times.
// The output is byte for byte what RenderNotice gives (a test holds it to
// that). Use one cache per batch: it keys on nothing else.
type NoticeCache struct {
	mu     sync.Mutex
	protos map[string]*Notice
}

// nameToken stands in for the name while the prototype renders: private
// use characters that no template escapes and no name can forge, since
// only the prototype's own text is searched.
const nameToken = "\uE000breachflow-name\uE001"

// codeToken and pageToken stand in for the remedy code and the notice
// page's link the same way: they differ per customer.
const (
	codeToken = "\uE000breachflow-code\uE001"
	pageToken = "\uE000breachflow-page\uE001"
)

var htmlText = template.Must(template.New("name").Parse(`{{.}}`))

// Render renders in's notice.
func (c *NoticeCache) Render(in NoticeInput) (*Notice, error) {
	name := oneLine(in.Name)
	key := NormalizeLocale(in.Locale) + "\x00" + strings.Join(in.DataElements, "\x1f") + "\x00" + strconv.FormatBool(name == "") +
		"\x00" + strconv.FormatBool(in.PageURL == "")
	var code string
	if r := in.Remedy; r != nil {
		code = r.Code
		key += "\x00" + r.Product + "\x1f" + r.EnrollmentURL + "\x1f" + r.EnrollBy.UTC().Format(time.RFC3339)
	}
	c.mu.Lock()
	proto, ok := c.protos[key]
	c.mu.Unlock()
	if !ok {
		p := in
		if name != "" {
			p.Name = nameToken
		}
		if p.Remedy != nil {
			r := *p.Remedy
			r.Code = codeToken
			p.Remedy = &r
		}
		if p.PageURL != "" {
			p.PageURL = pageToken
		}
		var err error
		if proto, err = RenderNotice(p); err != nil {
			return nil, err
		}
		c.mu.Lock()
		if c.protos == nil {
			c.protos = map[string]*Notice{}
		}
		c.protos[key] = proto
		c.mu.Unlock()
	}
	if name == "" && in.Remedy == nil && in.PageURL == "" {
		return proto, nil
	}
	var text, html []replacement
	for _, f := range [...]replacement{{nameToken, name}, {codeToken, oneLine(code)}, {pageToken, oneLine(in.PageURL)}} {
		if f.value == "" {
			continue
		}
		esc, err := escapeHTMLText(f.value)
		if err != nil {
			return nil, err
		}
		text = append(text, f)
		html = append(html, replacement{f.token, esc})
	}
	return &Notice{Locale: proto.Locale, Subject: proto.Subject,
		Text: fillTokens(proto.Text, text), HTML: fillTokens(proto.HTML, html)}, nil
}

type replacement struct{ token, value string }

// tokenStart begins every stand-in token.
const tokenStart = "\uE000"

// fillTokens replaces each of the tokens in s, in one pass from the left,
// as strings.NewReplacer would: a value put in is never searched again.
// It finds the tokens by their common first rune with strings.Index,
// where a generic Replacer tries every byte of a notice against its trie.
func fillTokens(s string, rs []replacement) string {
	n := len(s)
	for _, r := range rs {
		n += len(r.value)
	}
	var b strings.Builder
	b.Grow(n)
	for {
		i := strings.Index(s, tokenStart)
		if i < 0 {
			b.WriteString(s)
			return b.String()
		}
		b.WriteString(s[:i])
		s = s[i:]
		matched := false
		for _, r := range rs {
			if strings.HasPrefix(s, r.token) {
				b.WriteString(r.value)
				s = s[len(r.token):]
				matched = true
				break
			}
		}
		if !matched {
			b.WriteString(tokenStart)
			s = s[len(tokenStart):]
		}
	}
}

// htmlSpecial are the only characters html/template's escaper changes in
// HTML text: a value without them comes out as it went in.
const htmlSpecial = "\x00\"&'+<>"

// escapeHTMLText escapes v exactly as html/template does for {{.}} in
// HTML text.
func escapeHTMLText(v string) (string, error) {
	if !strings.ContainsAny(v, htmlSpecial) {
		return v, nil
	}
	var esc strings.Builder
	if err := htmlText.Execute(&esc, v); err != nil {
		return "", err
	}
	return esc.String(), nil
}
