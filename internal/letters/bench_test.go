package letters

import (
	"fmt"
	"io"
	"testing"
	"time"
)

// BenchmarkRenderLetters renders a batch of 200 letters (half en to the
// US, half zh-CN to China, each with a remedy code) into one PDF and
// reports letters per second. go test ./internal/letters -run '^$' -bench RenderLetters
func BenchmarkRenderLetters(b *testing.B) {
	r := renderer(b)
	const n = 200
	en := compose(b, "", "en", "Jane Q. Roe", usAddress, nil)
	zh := compose(b, "", "zh-CN", "王小明", cnAddress, nil)
	batch := make([]Letter, n)
	for i := range batch {
		l := en
		if i%2 == 1 {
			l = zh
		}
		l.Reference = fmt.Sprintf("BR-BENCH.letter.%d", i+1)
		l.Remedy = &Remedy{Product: "Credit monitoring", Code: fmt.Sprintf("ENR-%06d", i), URL: "https://enroll.example"}
		batch[i] = l
	}
	b.ResetTimer()
	for b.Loop() {
		if _, err := r.Render(io.Discard, batch, time.Now()); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(n*b.N)/b.Elapsed().Seconds(), "letters/s")
}
