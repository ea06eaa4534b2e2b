// Command vmfeed sends the standard dataset (bench/dataset, DESIGN.md §8) to
// a VictoriaMetrics instance as Influx line protocol, for bench/vm_size.sh.
//
//	go run ./bench/vmfeed -url http://127.0.0.1:8428 -objects 10000 -points 10080
//
// Each object is one series (measurement "m", field "v", tag obj=<id>), so VM
// stores exactly the samples tsdb stores. It prints the sample count and the
// ingest rate.
package main

import (
	"bytes"
	"flag"
	"fmt"
	"net/http"
	"os"
	"strconv"
	"sync"
	"time"

	"github.com/tsgate/tsgate/bench/dataset"
)

func main() {
	fs := flag.NewFlagSet("vmfeed", flag.ExitOnError)
	url := fs.String("url", "http://127.0.0.1:8428", "VictoriaMetrics base URL")
	objects := fs.Int("objects", dataset.StandardObjects, "objects")
	points := fs.Int("points", dataset.StandardPoints, "points per object")
	per := fs.Int("batch", 50000, "lines per request")
	workers := fs.Int("workers", 4, "concurrent requests")
	_ = fs.Parse(os.Args[1:])

	g := dataset.New(dataset.Config{Objects: *objects, Points: *points})
	bodies := make(chan []byte, *workers)
	var wg sync.WaitGroup
	var errOnce sync.Once
	var firstErr error
	for w := 0; w < *workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for body := range bodies {
				resp, err := http.Post(*url+"/write?precision=ms", "text/plain", bytes.NewReader(body))
				if err == nil {
					if resp.StatusCode/100 != 2 {
						err = fmt.Errorf("status %s", resp.Status)
					}
					resp.Body.Close()
				}
				if err != nil {
					errOnce.Do(func() { firstErr = err })
				}
			}
		}()
	}
	t0 := time.Now()
	n := 0
	buf := make([]byte, 0, *per*48)
	lines := 0
	for s, ok := g.Next(); ok; s, ok = g.Next() {
		buf = append(buf, "m,obj="...)
		buf = strconv.AppendUint(buf, uint64(s.ID), 10)
		buf = append(buf, " v="...)
		buf = strconv.AppendFloat(buf, s.Value, 'f', -1, 64)
		buf = append(buf, ' ')
		buf = strconv.AppendInt(buf, s.TS, 10)
		buf = append(buf, '\n')
		lines++
		n++
		if lines == *per {
			bodies <- buf
			buf = make([]byte, 0, *per*48)
			lines = 0
		}
	}
	if lines > 0 {
		bodies <- buf
	}
	close(bodies)
	wg.Wait()
	if firstErr != nil {
		fmt.Fprintln(os.Stderr, "vmfeed:", firstErr)
		os.Exit(1)
	}
	el := time.Since(t0)
	fmt.Printf("samples %d\nseconds %.1f\nsamples_per_second %.0f\n", n, el.Seconds(), float64(n)/el.Seconds())
}
