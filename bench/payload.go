package bench

import (
	"fmt"
	"runtime"
	"strconv"
	"sync"
	"time"

	"github.com/tsgate/tsgate/bench/dataset"
)

// Format is the wire format of an ingest body.
type Format int

const (
	FormatLine Format = iota // Influx line protocol, ms precision
	FormatJSON               // BBData measures array (POST /objects/values)
)

func (f Format) String() string {
	if f == FormatJSON {
		return "json"
	}
	return "line"
}

// ParseFormat reads "line" or "json".
func ParseFormat(s string) (Format, error) {
	switch s {
	case "line", "lp", "influx":
		return FormatLine, nil
	case "json", "bbdata":
		return FormatJSON, nil
	}
	return 0, fmt.Errorf("bench: unknown format %q: want line or json", s)
}

// PayloadOptions selects the request bodies BuildPayload pre-builds.
type PayloadOptions struct {
	Format  Format
	Dataset dataset.Config // Objects, Points, Start, Seed of the standard dataset (DESIGN.md §8)
	Batch   int            // samples per body; 0 = 5000
	// IDs maps the dataset's 0-based object index to the object id sent; nil = index + 1.
	IDs []uint32
	// Tokens holds the object token of each dataset object (JSON only; "" when nil).
	Tokens []string
	// Measurement is the line-protocol measurement name; "" = "m".
	Measurement string
	// Workers format bodies in parallel; 0 = GOMAXPROCS. The output does not depend on it.
	Workers int
}

// Payload is a pre-built run: the bodies in dataset order (time-major) and their sample counts.
type Payload struct {
	Format  Format
	Bodies  [][]byte
	Samples []int // samples in Bodies[i]
	Total   int64 // samples in all bodies
	Bytes   int64 // bytes in all bodies
}

// BuildPayload generates the dataset and formats it into bodies of opts.Batch samples. The
// dataset is drawn in order from one seeded source (so it is deterministic for a seed); only
// the formatting runs in parallel.
func BuildPayload(opts PayloadOptions) (*Payload, error) {
	if opts.Batch <= 0 {
		opts.Batch = 5000
	}
	if opts.Workers <= 0 {
		opts.Workers = runtime.GOMAXPROCS(0)
	}
	if opts.Measurement == "" {
		opts.Measurement = "m"
	}
	g := dataset.New(opts.Dataset)
	cfg := g.Config()
	if opts.IDs != nil && len(opts.IDs) < cfg.Objects {
		return nil, fmt.Errorf("bench: %d object ids for %d dataset objects", len(opts.IDs), cfg.Objects)
	}
	if opts.Format == FormatJSON && len(opts.Tokens) < cfg.Objects {
		return nil, fmt.Errorf("bench: %d object tokens for %d dataset objects", len(opts.Tokens), cfg.Objects)
	}
	total := g.Len()
	n := (total + opts.Batch - 1) / opts.Batch
	p := &Payload{Format: opts.Format, Bodies: make([][]byte, n), Samples: make([]int, n), Total: int64(total)}

	type job struct {
		i       int
		samples []dataset.Sample
	}
	jobs := make(chan job, 2*opts.Workers)
	free := make(chan []dataset.Sample, 3*opts.Workers+2) // ≥ every slice in circulation: never blocks a worker
	var wg sync.WaitGroup
	for w := 0; w < opts.Workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			f := formatter{opts: &opts}
			for j := range jobs {
				p.Bodies[j.i] = f.body(j.samples)
				p.Samples[j.i] = len(j.samples)
				free <- j.samples[:0]
			}
		}()
	}
	for i := 0; i < n; i++ {
		var s []dataset.Sample
		select {
		case s = <-free:
		default:
			s = make([]dataset.Sample, 0, opts.Batch)
		}
		jobs <- job{i, g.Fill(s, opts.Batch)}
	}
	close(jobs)
	wg.Wait()
	for _, b := range p.Bodies {
		p.Bytes += int64(len(b))
	}
	return p, nil
}

// formatter appends samples in one format; one per worker.
type formatter struct {
	opts *PayloadOptions
	size int // running estimate of bytes per sample, to size the next body
}

func (f *formatter) id(o int) uint32 {
	if f.opts.IDs == nil {
		return uint32(o + 1)
	}
	return f.opts.IDs[o]
}

func (f *formatter) body(samples []dataset.Sample) []byte {
	est := f.size
	if est == 0 {
		est = 48
		if f.opts.Format == FormatJSON {
			est = 128
		}
	}
	b := make([]byte, 0, est*len(samples)+64)
	if f.opts.Format == FormatJSON {
		b = append(b, '[')
		for i, s := range samples {
			if i > 0 {
				b = append(b, ',')
			}
			b = AppendMeasureJSON(b, f.id(s.Object), f.opts.Tokens[s.Object], s)
		}
		b = append(b, ']')
	} else {
		for _, s := range samples {
			b = AppendLine(b, f.opts.Measurement, f.id(s.Object), s)
		}
	}
	if len(samples) > 0 {
		f.size = len(b)/len(samples) + 1
	}
	return b
}

// AppendValue appends s.Value with the decimals of its object's kind (DESIGN.md §8).
func AppendValue(dst []byte, s dataset.Sample) []byte {
	return strconv.AppendFloat(dst, s.Value, 'f', dataset.KindOf(s.Object).Decimals(), 64)
}

// AppendLine appends one line-protocol line `<measurement>,object=<id> value=<v> <ms>\n`.
func AppendLine(dst []byte, measurement string, id uint32, s dataset.Sample) []byte {
	dst = append(dst, measurement...)
	dst = append(dst, ",object="...)
	dst = strconv.AppendUint(dst, uint64(id), 10)
	dst = append(dst, " value="...)
	dst = AppendValue(dst, s)
	dst = append(dst, ' ')
	dst = strconv.AppendInt(dst, s.TS, 10)
	return append(dst, '\n')
}

// AppendMeasureJSON appends one BBData measure
// {"objectId":<id>,"token":"<t>","timestamp":"<ISO ms Z>","value":"<v>"}. Tokens are
// [0-9a-zA-Z] secrets and need no escaping.
func AppendMeasureJSON(dst []byte, id uint32, token string, s dataset.Sample) []byte {
	dst = append(dst, `{"objectId":`...)
	dst = strconv.AppendUint(dst, uint64(id), 10)
	dst = append(dst, `,"token":"`...)
	dst = append(dst, token...)
	dst = append(dst, `","timestamp":"`...)
	dst = time.UnixMilli(s.TS).UTC().AppendFormat(dst, "2006-01-02T15:04:05.000Z")
	dst = append(dst, `","value":"`...)
	dst = AppendValue(dst, s)
	return append(dst, `"}`...)
}
