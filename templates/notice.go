package templates

import (
	"bytes"
	"embed"
	"errors"
	"fmt"
	htmltemplate "html/template"
	"slices"
	"strings"
	texttemplate "text/template"
	"time"

	"github.com/breachflow/breachflow/internal/breach"
	"github.com/breachflow/breachflow/playbooks"
)

//go:embed notice/*.tmpl
var noticeFiles embed.FS

// Locales a customer notice is written in (breach owns the list).
const (
	LocaleEN   = breach.LocaleEN
	LocaleZhCN = breach.LocaleZhCN
)

// NoticeInput is what one customer's notice is rendered from. Name and Email are the only personal data;
// they are used for the greeting and the envelope only.
type NoticeInput struct {
	Incident               *breach.Status // title, facts (occurred_at, discovered_at/aware_at, data_categories), legal's notice texts
	Org                    Organisation
	Locale                 string   // "en", "zh-CN" (also "zh", "zh-Hans", "zh_CN" → zh-CN); unknown → "en"
	Name                   string   // may be empty → neutral greeting
	DataElements           []string // this subject's exposed elements (category names or free text); empty → the incident's data_categories
	Steps                  []string // optional extra steps the organisation asks people to take
	Contact                string   // override of Org.Contact
	LawEnforcementDelay    bool     // California: say the notice was delayed at law enforcement's request
	CreditMonitoringMonths int      // 0 = none offered; else the offer is described (e.g. 12)
	GeneratedAt            time.Time
	// Remedy is the customer's enrollment code and how to use it; nil
	// when none is offered. The code is read from the store at send time.
	Remedy *NoticeRemedy
	// PageURL is the link to the customer's notice page ("" for none).
	PageURL string
	// Draft renders a marked placeholder where legal's texts of the locale
	// are missing (the preview); otherwise a missing text is an error, so
	// no customer is sent a notice legal did not write.
	Draft bool
}

// NoticeRemedy is the remedy offered to one customer.
type NoticeRemedy struct {
	Product       string
	Code          string
	EnrollmentURL string
	EnrollBy      time.Time
}

// Notice is one rendered customer notice.
type Notice struct {
	Locale  string // the locale actually used, one of NoticeLocales()
	Subject string // header-safe, e.g. "Notice of Data Breach — Example Shop GmbH"
	Text    string // plain-text part
	HTML    string // complete email-safe HTML document (inline CSS, type ≥ 10 pt)
}

// NoticeLocales returns the locales a notice can be rendered in.
func NoticeLocales() []string { return breach.NoticeLocales() }

// NormalizeLocale maps a locale tag (or an Accept-Language value, whose first
// tag counts) to one of NoticeLocales(); see breach.NormalizeLocale.
func NormalizeLocale(s string) string { return breach.NormalizeLocale(s) }

// NoticeView is what the notice templates render (and the customer's
// notice page); strings are raw, each template escapes them for its own
// format.
type NoticeView struct {
	Lang     string
	Subject  string // the email's subject
	Title    string
	Subtitle string // the English title under a translated one (California's title requirement)
	Greeting string
	Intro    string
	Sections []NoticeSection
	Footer   string
}

// NoticeSection is one of the five headings with its paragraphs and lists.
type NoticeSection struct {
	Heading string
	Blocks  []NoticeBlock
}

// NoticeBlock is a paragraph, a list, or a paragraph introducing a list.
type NoticeBlock struct {
	Text  string
	Items []string
}

// RenderNotice renders the notice of data breach for one person, in their
// locale, as a plain-text and an HTML part with the same content.
func RenderNotice(in NoticeInput) (*Notice, error) {
	v, err := BuildNotice(in)
	if err != nil {
		return nil, err
	}
	var text, html bytes.Buffer
	tt, err := texttemplate.ParseFS(noticeFiles, "notice/notice.txt.tmpl")
	if err != nil {
		return nil, fmt.Errorf("render notice: parse text template: %w", err)
	}
	if err := tt.Execute(&text, v); err != nil {
		return nil, fmt.Errorf("render notice: text: %w", err)
	}
	ht, err := htmltemplate.ParseFS(noticeFiles, "notice/notice.html.tmpl")
	if err != nil {
		return nil, fmt.Errorf("render notice: parse html template: %w", err)
	}
	if err := ht.Execute(&html, v); err != nil {
		return nil, fmt.Errorf("render notice: html: %w", err)
	}
	return &Notice{
		Locale:  v.Lang,
		Subject: v.Subject,
		Text:    text.String(),
		HTML:    html.String(),
	}, nil
}

// BuildNotice is the content of one person's notice, before a template
// renders it: the customer's notice page shows it too.
func BuildNotice(in NoticeInput) (*NoticeView, error) {
	switch {
	case in.Incident == nil:
		return nil, errors.New("render notice: no incident")
	case oneLine(in.Org.Name) == "":
		return nil, errors.New("render notice: no organisation name")
	case in.GeneratedAt.IsZero():
		return nil, errors.New("render notice: generated-at is required")
	}
	locale := NormalizeLocale(in.Locale)
	l := noticeLang(locale)
	texts := in.Incident.NoticeTexts[locale]
	if u := texts.Unwritten(locale); u != "" && !in.Draft {
		return nil, errors.New("render notice: " + u)
	}
	org := oneLine(in.Org.Name)
	contacts := noticeContacts(l, in)
	if len(contacts) == 0 {
		// GDPR Art. 34(2) and every US statute want a way to reach the organisation.
		return nil, errors.New("render notice: no contact point (contact, DPO, email or phone)")
	}

	v := NoticeView{Lang: locale, Title: l.title, Subtitle: l.subtitle, Intro: fmt.Sprintf(l.intro, org)}
	if name := oneLine(in.Name); name != "" {
		v.Greeting = fmt.Sprintf(l.greeting, name)
	} else {
		v.Greeting = l.greetingNeutral
	}
	v.Sections = []NoticeSection{
		whatHappenedSection(l, in, texts.WhatHappened, locale),
		informationSection(l, in),
		doingSection(l, in, texts.WhatWeAreDoing, locale),
		canDoSection(l, in),
		{Heading: l.hMore, Blocks: []NoticeBlock{
			{Text: l.moreIntro, Items: contacts},
			{Text: fmt.Sprintf(l.reference, oneLine(in.Incident.ID))},
			{Text: l.complain},
		}},
	}
	if u := oneLine(in.PageURL); u != "" {
		more := &v.Sections[len(v.Sections)-1]
		more.Blocks = slices.Insert(more.Blocks, 2, NoticeBlock{Text: fmt.Sprintf(l.pageLink, u)})
	}
	v.Footer = fmt.Sprintf(l.footer, org, l.date(in.GeneratedAt))
	v.Subject = l.title + " — " + org
	return &v, nil
}

// legalBlocks are the paragraphs of one of legal's texts; an unwritten one
// (only in a draft) is a marked placeholder naming the field to write.
func legalBlocks(text, field, locale string) []NoticeBlock {
	var out []NoticeBlock
	for _, line := range strings.Split(strings.ReplaceAll(text, "\r\n", "\n"), "\n") {
		if p := oneLine(line); p != "" {
			out = append(out, NoticeBlock{Text: p})
		}
	}
	if len(out) == 0 {
		out = append(out, NoticeBlock{Text: fmt.Sprintf("[DRAFT: legal has not written %s for %s yet]", field, locale)})
	}
	return out
}

// whatHappenedSection puts legal's text of the locale first, never the
// incident's own title or summary: those are written by responders, in
// English, for the team.
func whatHappenedSection(l noticeText, in NoticeInput, text, locale string) NoticeSection {
	s := NoticeSection{Heading: l.hWhatHappened, Blocks: legalBlocks(text, "what_happened", locale)}
	inc := in.Incident
	f := inc.Facts
	var when []string
	if f.OccurredAt != nil {
		when = append(when, fmt.Sprintf(l.occurred, l.date(*f.OccurredAt)))
	} else {
		when = append(when, l.occurredUnknown)
	}
	if f.DiscoveredAt != nil {
		when = append(when, fmt.Sprintf(l.discovered, l.date(*f.DiscoveredAt)))
	} else if !f.AwareAt.IsZero() {
		when = append(when, fmt.Sprintf(l.discovered, l.date(f.AwareAt)))
	}
	if t := containedAt(inc); t != nil {
		when = append(when, fmt.Sprintf(l.contained, l.date(*t)))
	}
	s.Blocks = append(s.Blocks, NoticeBlock{Text: strings.Join(when, l.sentenceSep)})
	if in.LawEnforcementDelay {
		s.Blocks = append(s.Blocks, NoticeBlock{Text: l.lawEnforcement})
	}
	return s
}

// noticeElements are the person's exposed data elements, falling back to the
// incident's categories, and the known categories among them (which drive the
// consequences and the steps).
func noticeElements(in NoticeInput) (elements, cats []string) {
	elements = in.DataElements
	if len(elements) == 0 {
		elements = in.Incident.Facts.DataCategories
	}
	for _, e := range elements {
		if c := categoryKey(e); c != "" && !slices.Contains(cats, c) {
			cats = append(cats, c)
		}
	}
	if len(cats) == 0 {
		for _, e := range in.Incident.Facts.DataCategories {
			if c := categoryKey(e); c != "" && !slices.Contains(cats, c) {
				cats = append(cats, c)
			}
		}
	}
	return elements, cats
}

// categoryKey returns the data category e names ("Special category" →
// "special_category"), or "" when e is free text such as "email address".
func categoryKey(e string) string {
	k := strings.ToLower(oneLine(e))
	k = strings.NewReplacer(" ", "_", "-", "_").Replace(k)
	if slices.Contains(breach.DataCategories(), k) {
		return k
	}
	return ""
}

func informationSection(l noticeText, in NoticeInput) NoticeSection {
	s := NoticeSection{Heading: l.hInformation}
	elements, cats := noticeElements(in)
	var items []string
	for _, e := range elements {
		t := oneLine(e)
		if c := categoryKey(e); c != "" {
			t = l.category(c).what
		}
		if t != "" && !slices.Contains(items, t) {
			items = append(items, t)
		}
	}
	if len(items) == 0 {
		s.Blocks = append(s.Blocks, NoticeBlock{Text: l.infoUnknown})
	} else {
		s.Blocks = append(s.Blocks, NoticeBlock{Text: l.infoIntro, Items: items})
	}
	var risks []string
	for _, c := range cats {
		if t := l.category(c).risk; t != "" && !slices.Contains(risks, t) {
			risks = append(risks, t)
		}
	}
	if len(risks) > 0 {
		s.Blocks = append(s.Blocks, NoticeBlock{Text: l.riskIntro, Items: risks})
	}
	return s
}

// doingSection puts legal's text of the locale first, then what the
// incident's record shows, so a claim (reported to the regulator) appears
// only when it is true.
func doingSection(l noticeText, in NoticeInput, text, locale string) NoticeSection {
	s := NoticeSection{Heading: l.hDoing, Blocks: legalBlocks(text, "what_we_are_doing", locale)}
	var items []string
	if containedAt(in.Incident) != nil {
		items = append(items, l.doingContained)
	} else {
		items = append(items, l.doingContaining)
	}
	items = append(items, l.doingInvestigating)
	if reportedToRegulator(in.Incident) {
		items = append(items, l.doingReported)
	}
	if in.CreditMonitoringMonths > 0 {
		items = append(items, fmt.Sprintf(l.creditMonitoring, in.CreditMonitoringMonths))
	}
	s.Blocks = append(s.Blocks, NoticeBlock{Items: items})
	return s
}

func canDoSection(l noticeText, in NoticeInput) NoticeSection {
	s := NoticeSection{Heading: l.hCanDo}
	_, cats := noticeElements(in)
	var items []string
	add := func(t string) {
		if t = oneLine(t); t != "" && !slices.Contains(items, t) {
			items = append(items, t)
		}
	}
	for _, c := range cats {
		add(l.category(c).step)
	}
	for _, st := range in.Steps {
		add(st)
	}
	if in.CreditMonitoringMonths > 0 {
		add(l.enrol)
	}
	add(l.stepPhishing)
	add(l.stepKeep)
	s.Blocks = append(s.Blocks, NoticeBlock{Items: items})
	if r := in.Remedy; r != nil {
		s.Blocks = append(s.Blocks, NoticeBlock{Text: fmt.Sprintf(l.remedyOffer, oneLine(r.Product)), Items: []string{
			l.lRemedyCode + l.labelSep + oneLine(r.Code),
			fmt.Sprintf(l.remedyHow, oneLine(r.EnrollmentURL)),
			fmt.Sprintf(l.remedyBy, l.date(r.EnrollBy)),
		}})
	}
	return s
}

// noticeContacts lists the ways to reach the organisation, labelled.
func noticeContacts(l noticeText, in NoticeInput) []string {
	contact := oneLine(in.Contact)
	if contact == "" {
		contact = oneLine(in.Org.Contact)
	}
	var out []string
	for _, r := range []row{{l.lContact, contact}, {l.lDPO, in.Org.DPO}, {l.lEmail, in.Org.Email}, {l.lPhone, in.Org.Phone}} {
		if v := oneLine(r.Value); v != "" {
			out = append(out, r.Label+l.labelSep+v)
		}
	}
	return out
}

// containedAt is when a containment step completed, if one did.
func containedAt(inc *breach.Status) *time.Time {
	for _, st := range inc.Steps {
		if st.State == breach.StepDone && st.DoneAt != nil && reportsAs(st) == playbooks.ReportsContainment {
			t := *st.DoneAt
			return &t
		}
	}
	return nil
}

// reportedToRegulator says whether a regulator notification was filed, so the
// notice claims it only when it is true.
func reportedToRegulator(inc *breach.Status) bool {
	for _, ob := range inc.Obligations {
		if ob.Recipient == breach.RecipientRegulator && ob.Status == breach.ObligationFiled {
			return true
		}
	}
	return false
}

// categoryNotice is how a notice explains one data category to the person.
type categoryNotice struct {
	what string // the data in plain words
	risk string // a likely consequence (GDPR Art. 34, PIPL Art. 57, DPDP)
	step string // what the person can do about it
}

// noticeText holds the fixed wording of one locale. Format verbs mark where
// values go; every string is plain text that the templates escape.
type noticeText struct {
	title, subtitle                                  string
	greeting, greetingNeutral, intro                 string
	hWhatHappened, hInformation, hDoing, hCanDo      string
	hMore                                            string
	occurred, occurredUnknown, discovered, contained string
	sentenceSep                                      string
	lawEnforcement                                   string
	infoIntro, infoUnknown, riskIntro                string
	doingContained, doingContaining                  string
	doingInvestigating, doingReported                string
	creditMonitoring, enrol                          string
	remedyOffer, lRemedyCode, remedyHow, remedyBy    string
	pageLink                                         string
	stepPhishing, stepKeep                           string
	moreIntro, reference, complain                   string
	lContact, lDPO, lEmail, lPhone, labelSep         string
	footer                                           string
	date                                             func(time.Time) string
	category                                         func(string) categoryNotice
}

// noticeLang returns the wording of a normalized locale.
func noticeLang(locale string) noticeText {
	if locale == LocaleZhCN {
		return zhCNNotice()
	}
	return enNotice()
}

func enNotice() noticeText {
	return noticeText{
		title:              "Notice of Data Breach",
		greeting:           "Dear %s,",
		greetingNeutral:    "Dear customer,",
		intro:              "We are writing to tell you about a data breach at %s that involves your personal information. This notice explains what happened, what it means for you and what you can do.",
		hWhatHappened:      "What Happened",
		hInformation:       "What Information Was Involved",
		hDoing:             "What We Are Doing",
		hCanDo:             "What You Can Do",
		hMore:              "For More Information",
		occurred:           "The breach took place on or about %s.",
		occurredUnknown:    "We do not yet know exactly when the breach began; our investigation continues.",
		discovered:         "We discovered it on %s.",
		contained:          "We stopped it on %s.",
		sentenceSep:        " ",
		lawEnforcement:     "A law enforcement agency asked us to delay this notice because telling you earlier would have impeded its investigation.",
		infoIntro:          "The information involved:",
		infoUnknown:        "We are still finding out which of your information was involved. We will tell you as soon as we know.",
		riskIntro:          "This could lead to:",
		doingContained:     "We stopped the unauthorised access.",
		doingContaining:    "We are working to stop the unauthorised access.",
		doingInvestigating: "We are investigating how this happened and strengthening our security so that it does not happen again.",
		doingReported:      "We have reported the breach to the data protection authority.",
		creditMonitoring:   "We are offering you %d months of credit monitoring and identity-theft protection at no cost to you.",
		enrol:              "Enrol in the free credit monitoring we are offering; contact us (details below) to sign up.",
		remedyOffer:        "We are offering you %s at no cost. Your personal enrollment code:",
		lRemedyCode:        "Enrollment code",
		remedyHow:          "To enrol, go to %s and enter your code.",
		remedyBy:           "Enrol by %s; the code does not work after that date.",
		pageLink:           "You can read this notice online, and tell us you have received it, at %s",
		stepPhishing:       "Be wary of unexpected emails, calls or messages about this breach. We will never ask for your password.",
		stepKeep:           "Keep this notice, and contact us if you notice anything suspicious.",
		moreIntro:          "If you have questions, please contact us:",
		reference:          "Please quote reference %s.",
		complain:           "You have the right to complain to a data protection supervisory authority, in particular in the country where you live or work.",
		lContact:           "Contact",
		lDPO:               "Data protection officer",
		lEmail:             "Email",
		lPhone:             "Phone",
		labelSep:           ": ",
		footer:             "Sent by %s on %s.",
		date:               func(t time.Time) string { return t.UTC().Format("2 January 2006") },
		category:           enCategory,
	}
}

func enCategory(cat string) categoryNotice {
	switch cat {
	case "contact":
		return categoryNotice{"Contact details, such as your name, email or postal address and phone number",
			"Phishing, spam and scam calls or messages that use your details",
			"Be careful with messages that mention this breach or ask for personal details, even if they look like they come from us."}
	case "identity":
		return categoryNotice{"Government identifiers, such as your national ID, passport, Social Security or driving-licence number",
			"Identity theft: someone could open accounts or apply for credit in your name",
			"Consider placing a fraud alert or a credit freeze with the credit bureaus, and watch for accounts or applications you did not open."}
	case "financial":
		return categoryNotice{"Financial details, such as your bank account or payment card details",
			"Fraudulent payments or other financial loss",
			"Check your bank and card statements for payments you do not recognise, and contact your bank or card issuer at once if you find any."}
	case "credentials":
		return categoryNotice{"Account sign-in details, such as usernames, passwords, security answers or access tokens",
			"Someone taking over your account, or other accounts where you use the same password",
			"Change your password for our service and anywhere else you use the same password, and turn on multi-factor authentication."}
	case "health":
		return categoryNotice{"Health information",
			"Distress, discrimination or misuse of your health insurance",
			"Check statements from your health insurer or provider for services you did not receive."}
	case "biometric":
		return categoryNotice{"Biometric data, such as fingerprints or face images",
			"Misuse of your biometric data, which cannot be changed like a password",
			"Where a service lets you, add a second sign-in method besides your fingerprint or face."}
	case "genetic":
		return categoryNotice{"Genetic information",
			"Distress or discrimination from the disclosure of your genetic information",
			"Be cautious of anyone who contacts you about your genetic or family health information."}
	case "children":
		return categoryNotice{"Information about children",
			"Harm to children, who are less able to protect themselves",
			"Talk with your child about unexpected messages, and watch for accounts opened in your child's name."}
	case "location":
		return categoryNotice{"Location data",
			"Risks to your privacy or physical safety from knowledge of where you have been",
			"Review the location-sharing settings of your account and devices."}
	case "special_category":
		return categoryNotice{"Sensitive information, such as ethnic origin, political opinions, religious beliefs, trade-union membership or sexual orientation",
			"Distress, discrimination or damage to your reputation",
			"Be alert to messages that refer to this information; contact us if you need support."}
	case "other":
		return categoryNotice{"Other personal information, as described above",
			"Misuse of your information by people who should not have it",
			"Watch for unusual activity on your accounts and tell us if you see any."}
	}
	return categoryNotice{}
}

func zhCNNotice() noticeText {
	return noticeText{
		title:              "数据泄露通知",
		subtitle:           "Notice of Data Breach",
		greeting:           "尊敬的%s：",
		greetingNeutral:    "尊敬的客户：",
		intro:              "我们特此通知您：%s 发生了一起涉及您个人信息的数据泄露事件。本通知说明发生了什么、对您有何影响以及您可以采取的措施。",
		hWhatHappened:      "发生了什么",
		hInformation:       "涉及哪些信息",
		hDoing:             "我们正在采取的措施",
		hCanDo:             "您可以采取的措施",
		hMore:              "更多信息",
		occurred:           "泄露事件大约发生于%s。",
		occurredUnknown:    "我们尚不清楚泄露事件开始的确切时间，调查仍在进行中。",
		discovered:         "我们于%s发现了该事件。",
		contained:          "我们已于%s阻止了泄露。",
		sentenceSep:        "",
		lawEnforcement:     "应执法机关的要求，本通知有所推迟，因为提前通知会妨碍其调查。",
		infoIntro:          "涉及的信息：",
		infoUnknown:        "我们仍在核实您的哪些信息受到影响，一旦查明将立即告知您。",
		riskIntro:          "这可能导致：",
		doingContained:     "我们已阻止了未经授权的访问。",
		doingContaining:    "我们正在努力阻止未经授权的访问。",
		doingInvestigating: "我们正在调查事件原因，并加强安全措施，防止类似事件再次发生。",
		doingReported:      "我们已向个人信息保护监管部门报告了该事件。",
		creditMonitoring:   "我们免费为您提供 %d 个月的信用监控和身份盗用防护服务。",
		enrol:              "请登记使用我们免费提供的信用监控服务；如需登记，请通过下方方式联系我们。",
		remedyOffer:        "我们免费为您提供 %s 服务。您的个人登记码：",
		lRemedyCode:        "登记码",
		remedyHow:          "登记方式：访问 %s 并输入您的登记码。",
		remedyBy:           "请于%s前完成登记，逾期登记码将失效。",
		pageLink:           "您可以在线阅读本通知，并确认您已收到：%s",
		stepPhishing:       "警惕与本事件有关的陌生邮件、电话或短信。我们绝不会向您索要密码。",
		stepKeep:           "请保留本通知；如发现任何可疑情况，请联系我们。",
		moreIntro:          "如有疑问，请联系我们：",
		reference:          "请注明事件编号 %s。",
		complain:           "您有权向个人信息保护监管部门（例如您所在地的数据保护监管机构）投诉或举报。",
		lContact:           "联系人",
		lDPO:               "个人信息保护负责人",
		lEmail:             "电子邮箱",
		lPhone:             "电话",
		labelSep:           "：",
		footer:             "由 %s 于%s发出。",
		date:               func(t time.Time) string { return t.UTC().Format("2006年1月2日") },
		category:           zhCNCategory,
	}
}

func zhCNCategory(cat string) categoryNotice {
	switch cat {
	case "contact":
		return categoryNotice{"联系方式，例如您的姓名、电子邮箱或邮寄地址、电话号码",
			"利用您的信息进行的钓鱼邮件、垃圾信息和诈骗电话或短信",
			"谨慎对待提及本事件或索要个人信息的消息，即使它们看起来来自我们。"}
	case "identity":
		return categoryNotice{"身份证件号码，例如身份证、护照、社会保障号码或驾驶证号码",
			"身份盗用：他人可能以您的名义开立账户或申请贷款",
			"考虑向征信机构申请欺诈警示或冻结信用报告，并留意非您本人开立的账户或申请。"}
	case "financial":
		return categoryNotice{"金融信息，例如您的银行账户或支付卡信息",
			"盗刷或其他财产损失",
			"检查您的银行和信用卡账单中是否有您不认识的交易；如有，请立即联系您的银行或发卡机构。"}
	case "credentials":
		return categoryNotice{"账户登录信息，例如用户名、密码、密保答案或访问令牌",
			"他人盗用您的账户，或盗用您使用相同密码的其他账户",
			"修改您在我们服务中的密码，以及在其他地方使用的相同密码，并开启多重身份验证。"}
	case "health":
		return categoryNotice{"健康信息",
			"精神困扰、歧视或医疗保险被冒用",
			"检查健康保险公司或医疗机构的账单中是否有您未接受的服务。"}
	case "biometric":
		return categoryNotice{"生物识别信息，例如指纹或人脸图像",
			"生物识别信息被滥用，且它无法像密码一样更改",
			"在服务允许的情况下，除指纹或人脸外再增加一种登录验证方式。"}
	case "genetic":
		return categoryNotice{"基因信息",
			"因基因信息泄露而带来的精神困扰或歧视",
			"警惕任何就您的基因或家族健康信息与您联系的人。"}
	case "children":
		return categoryNotice{"儿童的个人信息",
			"对自我保护能力较弱的儿童造成伤害",
			"提醒您的孩子警惕陌生消息，并留意以孩子名义开立的账户。"}
	case "location":
		return categoryNotice{"位置信息",
			"您的行踪被他人知晓，危及您的隐私或人身安全",
			"检查您的账户和设备的位置共享设置。"}
	case "special_category":
		return categoryNotice{"敏感个人信息，例如种族、政治观点、宗教信仰、工会会员身份或性取向",
			"精神困扰、歧视或名誉受损",
			"警惕提及这些信息的消息；如需帮助，请联系我们。"}
	case "other":
		return categoryNotice{"其他个人信息，详见上文说明",
			"您的信息被无权获得的人滥用",
			"留意您账户中的异常活动，如发现请告知我们。"}
	}
	return categoryNotice{}
}
