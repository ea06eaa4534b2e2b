package query

import (
	"bytes"
	"runtime"
	"sync"
	"sync/atomic"
)

// Rollup rows of many objects are formatted by two goroutines, chunk of objects by chunk,
// while the request's goroutine writes the chunks in order: a query of 1000 objects × 30
// days of hourly means spent ≈ 100 ms of one core decoding and printing 720 000 rows
// (BenchmarkMeanVsVM). At most parallelAhead chunks wait formatted, each at most
// parallelChunkRows rows, so memory stays bounded whatever the query.
const (
	parallelWorkers   = 2
	parallelAhead     = 4
	parallelChunkRows = 4096
)

// parallelMinTarget is the fewest objects a query formats in parallel (a variable for tests).
var parallelMinTarget = 32

type chunkResult struct {
	data []byte
	rows int64
	err  error
}

// parallelPlan returns the objects per chunk for a parallel rollup query, 0 when it should
// run sequentially (few objects, one core, a row limit, or objects too long for a chunk).
func parallelPlan(ntargets int, g Granularity, from, to, limit int64) int {
	if limit != 0 || g == Raw || ntargets < parallelMinTarget || runtime.GOMAXPROCS(0) < 2 || to < from {
		return 0
	}
	perObject := (to-from)/g.Millis() + 1
	if perObject > parallelChunkRows {
		return 0
	}
	return int(max(1, min(64, parallelChunkRows/perObject)))
}

// writeRowsParallel writes the rollup rows of targets in order, formatted by worker
// goroutines (each with its own Rollups session and encoder) per chunk of per objects.
// e is the request's encoder (its format and fields; for JSON, the rows written so far
// decide the first row's comma).
func (h *Handler) writeRowsParallel(o *out, e *encoder, s rollupSession, statsOnly bool, targets []target, g Granularity, from, to int64, per int) error {
	nchunks := (len(targets) + per - 1) / per
	results := make([]chan chunkResult, nchunks)
	for i := range results {
		results[i] = make(chan chunkResult, 1)
	}
	slots := make(chan struct{}, parallelAhead)
	bufs := make(chan []byte, parallelAhead+parallelWorkers)
	done := make(chan struct{})
	var next atomic.Int64
	var wg sync.WaitGroup
	defer func() {
		close(done)
		wg.Wait()
	}()
	for range parallelWorkers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rollups, end := s.Session(statsOnly)
			defer end()
			we := &encoder{f: e.f, agg: e.agg, fields: e.fields, n: 1} // n > 0: every JSON row opens with ','
			for {
				// A slot before an index: the chunks holding slots are the oldest unwritten
				// ones, so the writer never waits on a chunk whose worker waits for a slot.
				select {
				case slots <- struct{}{}:
				case <-done:
					return
				}
				i := int(next.Add(1) - 1)
				if i >= nchunks {
					<-slots
					return
				}
				// Rows stay in wo.buf (a chunk is rarely past flushAt; then the sink takes
				// the overflow) and go to the writer without another copy.
				var buf []byte
				select {
				case buf = <-bufs:
				default:
					buf = make([]byte, 0, flushAt+4096)
				}
				var sink bytes.Buffer
				wo := &out{w: &sink, buf: buf[:0]}
				var err error
				for k := i * per; k < min((i+1)*per, len(targets)) && err == nil; k++ {
					select {
					case <-done:
						err = errStopRows
					default:
					}
					if err == nil {
						t := &targets[k]
						we.object(t.id)
						err = h.writeRows(wo, we, rollups, t, g, from, to, 0)
					}
				}
				data := wo.buf
				if sink.Len() > 0 {
					data = append(sink.Bytes(), wo.buf...)
				}
				results[i] <- chunkResult{data: data, rows: wo.rows, err: err}
			}
		}()
	}
	for i := range results {
		r := <-results[i]
		<-slots
		if r.err != nil {
			return r.err
		}
		data := r.data
		if e.f == formatJSON && e.n == 0 && len(data) > 0 && data[0] == ',' {
			data = data[1:] // the response's first row
		}
		e.n += r.rows
		o.rows += r.rows
		if err := o.writeThrough(data); err != nil {
			return err
		}
		select {
		case bufs <- r.data[:0]:
		default:
		}
	}
	return nil
}

// writeThrough writes p after what o holds, without copying p into o's buffer when it is
// large.
func (o *out) writeThrough(p []byte) error {
	if len(o.buf)+len(p) < flushAt {
		o.buf = append(o.buf, p...)
		return o.err
	}
	if err := o.flush(); err != nil {
		return err
	}
	n, err := o.w.Write(p)
	o.n += int64(n)
	if err != nil {
		o.err = err
	}
	return err
}
