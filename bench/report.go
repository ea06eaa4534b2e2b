package bench

import (
	"bytes"
	"fmt"
	"image/color"
	"os"
	"path/filepath"
	"runtime"
	"time"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
)

// Report is what WriteReport renders: any of an ingest and a query result (mixed has both).
type Report struct {
	Title  string
	Ingest *IngestResult
	Query  *QueryResult
}

// Chart file names WriteReport writes beside report.md.
const (
	ChartThroughput = "throughput.svg"
	ChartLatency    = "latency.svg"
)

// WriteReport writes dir/report.md (the tables, the machine, the date) and two SVG charts:
// throughput and latency (p50, p99) over time, one line per result.
func WriteReport(dir string, r Report) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("bench: cannot create report dir: %w", err)
	}
	md := RenderMarkdown(r)
	if err := os.WriteFile(filepath.Join(dir, "report.md"), md, 0o644); err != nil {
		return fmt.Errorf("bench: cannot write report: %w", err)
	}
	var series []chartSeries
	if r.Ingest != nil {
		series = append(series, chartSeries{"ingest " + r.Ingest.Format, " (samples/s)", r.Ingest.Timeline})
	}
	if r.Query != nil {
		series = append(series, chartSeries{"queries", " (rows/s)", r.Query.Timeline})
	}
	th, err := chart("Throughput", "per second", series, func(p TimePoint) float64 { return p.Rate }, "", true)
	if err != nil {
		return err
	}
	lat, err := chart("Request latency (p99 of each second)", "ms", series, func(p TimePoint) float64 { return p.P99 }, " p99", false)
	if err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(dir, ChartThroughput), th, 0o644); err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(dir, ChartLatency), lat, 0o644)
}

// RenderMarkdown renders the report's markdown.
func RenderMarkdown(r Report) []byte {
	var b bytes.Buffer
	title := r.Title
	if title == "" {
		title = "tsgate bench report"
	}
	host, _ := os.Hostname()
	fmt.Fprintf(&b, "# %s\n\n", title)
	fmt.Fprintf(&b, "Written %s on %s (%s/%s, %d CPUs, %s).\n\n", time.Now().UTC().Format(time.RFC3339), host, runtime.GOOS, runtime.GOARCH, runtime.NumCPU(), loadAverage())
	if i := r.Ingest; i != nil {
		fmt.Fprintf(&b, "## Ingest\n\n")
		fmt.Fprintf(&b, "`POST %s%s`, %s, standard dataset %d objects × %d points, batch %d, %d connections, started %s.\n\n",
			i.URL, i.Path, i.Format, i.Objects, i.Points, i.Batch, i.Concurrency, i.Started.Format(time.RFC3339))
		fmt.Fprintf(&b, "| target | samples/s | accepted | requests ok/sent | MB/s | p50 ms | p90 ms | p99 ms | max ms | errors |\n|---|---|---|---|---|---|---|---|---|---|\n")
		fmt.Fprintf(&b, "| %s | %.0f | %d | %d/%d | %.1f | %.2f | %.2f | %.2f | %.2f | %s |\n\n",
			i.Target, i.Rate, i.Samples, i.OK, i.Requests, i.MBps, i.Latency.P50, i.Latency.P90, i.Latency.P99, i.Latency.Max, errString(i.Errors))
	}
	if q := r.Query; q != nil {
		fmt.Fprintf(&b, "## Queries\n\n%d connections, %d objects, started %s, %.2f s.\n\n", q.Concurrency, q.Objects, q.Started.Format(time.RFC3339), q.ElapsedS)
		fmt.Fprintf(&b, "| kind | requests | rows | rows/s | req/s | p50 ms | p90 ms | p99 ms | max ms | errors |\n|---|---|---|---|---|---|---|---|---|---|\n")
		for _, k := range q.Kinds {
			fmt.Fprintf(&b, "| %s | %d | %d | %.0f | %.1f | %.2f | %.2f | %.2f | %.2f | %s |\n",
				k.Kind, k.Requests, k.Rows, k.RowsPerS, k.ReqPerS, k.Latency.P50, k.Latency.P90, k.Latency.P99, k.Latency.Max, errString(k.Errors))
		}
		b.WriteString("\n")
	}
	fmt.Fprintf(&b, "![throughput](%s)\n\n![latency](%s)\n", ChartThroughput, ChartLatency)
	return b.Bytes()
}

func errString(m map[string]int) string {
	if len(m) == 0 {
		return "none"
	}
	s := ""
	for _, k := range sortedKeys(m) {
		if s != "" {
			s += ", "
		}
		s += fmt.Sprintf("%s×%d", k, m[k])
	}
	return s
}

// loadAverage reads /proc/loadavg ("load 1.23 1.10 0.90"), or says it is unknown.
func loadAverage() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "load unknown"
	}
	var a, c, d float64
	if _, err := fmt.Sscan(string(b), &a, &c, &d); err != nil {
		return "load unknown"
	}
	return fmt.Sprintf("load average %.2f %.2f %.2f", a, c, d)
}

type chartSeries struct {
	name, unit string
	tp         []TimePoint
}

var palette = []color.Color{
	color.RGBA{R: 0x1f, G: 0x77, B: 0xb4, A: 0xff},
	color.RGBA{R: 0xd6, G: 0x27, B: 0x28, A: 0xff},
	color.RGBA{R: 0x2c, G: 0xa0, B: 0x2c, A: 0xff},
}

// chart draws one line per series of y(point) against time and returns the SVG.
func chart(title, ylabel string, series []chartSeries, y func(TimePoint) float64, suffix string, withUnit bool) ([]byte, error) {
	p := plot.New()
	p.Title.Text = title
	p.X.Label.Text = "seconds since start"
	p.Y.Label.Text = ylabel
	p.Y.Min = 0
	p.Add(plotter.NewGrid())
	for i, s := range series {
		pts := make(plotter.XYs, 0, len(s.tp))
		for _, t := range s.tp {
			pts = append(pts, plotter.XY{X: t.At, Y: y(t)})
		}
		if len(pts) == 0 {
			continue
		}
		l, err := plotter.NewLine(pts)
		if err != nil {
			return nil, fmt.Errorf("bench: cannot plot %s: %w", s.name, err)
		}
		l.Color = palette[i%len(palette)]
		l.Width = vg.Points(1.5)
		p.Add(l)
		name := s.name + suffix
		if withUnit {
			name += s.unit
		}
		p.Legend.Add(name, l)
	}
	p.Legend.Top = true
	p.Legend.Left = true
	p.Y.Max *= 1.15 // room for the legend above the lines
	w, err := p.WriterTo(8*vg.Inch, 4*vg.Inch, "svg")
	if err != nil {
		return nil, fmt.Errorf("bench: cannot render chart: %w", err)
	}
	var b bytes.Buffer
	if _, err := w.WriteTo(&b); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}
