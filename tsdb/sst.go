package tsdb

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"slices"

	"github.com/cockroachdb/pebble/v2"
	"github.com/cockroachdb/pebble/v2/objstorage/objstorageprovider"
	"github.com/cockroachdb/pebble/v2/sstable"
	"github.com/cockroachdb/pebble/v2/vfs"
)

// A flush's batch is not applied through Pebble's WAL and memtable: it is
// written as one sstable and ingested (decision 0014). Ingestion is atomic
// (one version edit) and leaves the commit pipeline free while the tens of MB
// are encoded and synced, where a batch that size held every concurrent
// append behind its WAL write and fsync for 100–400 ms.

// ingestDir holds sstables between their writing and their ingestion
// (Pebble links them into the store); Open empties it.
const ingestDir = "ingest"

// batchOp is one Set or Delete of a batch, in batch order.
type batchOp struct {
	key, value []byte
	del        bool
	idx        int32 // position in the batch
	drop       bool  // covered by a later range deletion, or shadowed by a later op
}

// rangeDel is one DeleteRange of a batch.
type rangeDel struct {
	start, end []byte
	idx        int32
}

// sstScratch is reused across flushes (they are serialized by flushMu).
type sstScratch struct {
	ops  []batchOp
	dels []rangeDel
	buf  [][]batchOp // per two-byte key prefix
}

// writeBatchSST writes the content of pb to new sstables in dir with the
// same meaning as applying pb: keys sorted, the last op of a key wins, and a
// range deletion removes the keys set before it in the batch (in an ingested
// table all keys share one sequence number, so a range deletion would not
// shadow them: they are left out instead). One table per part (first key
// byte, or the observer's TablePartitioner), so that one ingestion's tables are as
// narrow as the keys they hold: Pebble makes an ingestion whose table
// overlaps keys in the memtable wait for a memtable flush (~1 s here, with
// the commit pipeline held), and the catalog's and acl's keys sort between
// ours. It returns the tables' paths (none when pb is empty).
func (db *DB) writeBatchSST(pb *pebble.Batch, dir string, sc *sstScratch) ([]string, error) {
	sc.ops, sc.dels = sc.ops[:0], sc.dels[:0]
	r := pb.Reader()
	for idx := int32(0); ; idx++ {
		kind, k, v, ok, err := r.Next()
		if err != nil {
			return nil, fmt.Errorf("tsdb: flush batch: %w", err)
		}
		if !ok {
			break
		}
		switch kind {
		case pebble.InternalKeyKindSet:
			sc.ops = append(sc.ops, batchOp{key: k, value: v, idx: idx})
		case pebble.InternalKeyKindDelete:
			sc.ops = append(sc.ops, batchOp{key: k, del: true, idx: idx})
		case pebble.InternalKeyKindRangeDelete:
			sc.dels = append(sc.dels, rangeDel{start: k, end: v, idx: idx})
		default:
			return nil, fmt.Errorf("tsdb: flush batch: unexpected %v", kind)
		}
		if len(k) == 0 {
			return nil, fmt.Errorf("tsdb: flush batch: empty key")
		}
	}
	ops := sc.sortOps()
	dels := sc.fragmentDels(ops)
	part := db.tablePart()
	// The parts, ascending; one part for all when a range deletion spans two
	// (the tables must not overlap).
	var parts [][]byte
	split := true
	for _, d := range dels {
		if p := part(d.start); !bytes.HasPrefix(d.end, p) {
			split = false
		}
	}
	for _, o := range ops {
		if o.drop {
			continue
		}
		if p := part(o.key); len(parts) == 0 || !bytes.Equal(parts[len(parts)-1], p) {
			parts = append(parts, p)
		}
	}
	for _, d := range dels {
		p := part(d.start)
		if i, found := slices.BinarySearchFunc(parts, p, bytes.Compare); !found {
			parts = slices.Insert(parts, i, p)
		}
	}
	if len(parts) == 0 {
		return nil, nil
	}
	if !split {
		path := filepath.Join(dir, "flush.sst")
		return []string{path}, db.writeSST(path, ops, dels)
	}
	var paths []string
	oi, di := 0, 0
	for n, p := range parts {
		path := filepath.Join(dir, fmt.Sprintf("flush-%04d.sst", n))
		paths = append(paths, path)
		for oi < len(ops) && bytes.Compare(ops[oi].key, p) < 0 { // dropped ops of a part without a table
			oi++
		}
		end := oi
		for end < len(ops) && bytes.HasPrefix(ops[end].key, p) {
			end++
		}
		dend := di
		for dend < len(dels) && bytes.HasPrefix(dels[dend].start, p) {
			dend++
		}
		if err := db.writeSST(path, ops[oi:end], dels[di:dend]); err != nil {
			return paths, err
		}
		oi, di = end, dend
	}
	return paths, nil
}

// tablePart returns the function giving a key's table part: the
// observer's TablePartitioner where it answers, else the first byte
// (tsdb's and aggregate's prefixes). Caller holds flushMu (db.obs).
func (db *DB) tablePart() func(key []byte) []byte {
	tp, _ := db.obs.(TablePartitioner)
	return func(key []byte) []byte {
		if tp != nil {
			if n := tp.TablePart(key); n >= 1 && n <= len(key) {
				return key[:n]
			}
		}
		return key[:1]
	}
}

// writeSST writes one table of sorted ops and disjoint, sorted deletions.
func (db *DB) writeSST(path string, ops []batchOp, dels []rangeDel) error {
	f, err := vfs.Default.Create(path, vfs.WriteCategoryUnspecified)
	if err != nil {
		return fmt.Errorf("tsdb: cannot create %s: %w", path, err)
	}
	// Written back as it goes (sync_file_range each MiB, as Pebble does for
	// its own tables): one fsync of tens of MB at the end held the disk, and
	// every append's WAL fsync behind it, for up to a second.
	f = vfs.NewSyncingFile(f, vfs.SyncingFileOptions{BytesPerSync: 1 << 20})
	wo := sstable.WriterOptions{
		TableFormat: db.pdb.TableFormat(),
		Comparer:    pebble.DefaultComparer,
		// Blocks are compressed by their codec already; snappy would only
		// spend CPU finding that out. Compactions recompress at their level.
		Compression: sstable.NoCompression,
		BlockSize:   32 << 10,
	}
	w := sstable.NewWriter(objstorageprovider.NewFileWritable(f), wo)
	for i := range ops {
		o := &ops[i]
		if o.drop {
			continue
		}
		if o.del {
			err = w.Delete(o.key)
		} else {
			err = w.Set(o.key, o.value)
		}
		if err != nil {
			_ = w.Close()
			return fmt.Errorf("tsdb: cannot write %s: %w", path, err)
		}
	}
	for _, d := range dels {
		if err := w.DeleteRange(d.start, d.end); err != nil {
			_ = w.Close()
			return fmt.Errorf("tsdb: cannot write %s: %w", path, err)
		}
	}
	if err := w.Close(); err != nil { // syncs the file
		return fmt.Errorf("tsdb: cannot write %s: %w", path, err)
	}
	return nil
}

// sortOps sorts sc.ops by key, keeping batch order among equal keys, and
// marks all but the last op of every key. The ops of a flush come in runs
// that are sorted already (blocks by object, each observer's keys by
// object), so they are bucketed by their first two key bytes and a bucket
// is sorted only when its run is not.
func (sc *sstScratch) sortOps() []batchOp {
	ops := sc.ops
	if len(ops) == 0 {
		return ops
	}
	sorted := true
	for i := 1; i < len(ops) && sorted; i++ {
		sorted = bytes.Compare(ops[i-1].key, ops[i].key) < 0
	}
	if sorted {
		return ops
	}
	prefix := func(k []byte) int {
		switch len(k) {
		case 0:
			return 0
		case 1:
			return int(k[0]) << 8
		}
		return int(k[0])<<8 | int(k[1])
	}
	var order []int // prefixes in use, sorted
	index := map[int]int{}
	for _, o := range ops {
		p := prefix(o.key)
		b, ok := index[p]
		if !ok {
			b = len(order)
			index[p] = b
			order = append(order, p)
			if b == len(sc.buf) {
				sc.buf = append(sc.buf, nil)
			}
			sc.buf[b] = sc.buf[b][:0]
		}
		sc.buf[b] = append(sc.buf[b], o)
	}
	byPrefix := make([]int, len(order))
	for i := range byPrefix {
		byPrefix[i] = i
	}
	slices.SortFunc(byPrefix, func(a, b int) int { return order[a] - order[b] })
	out := ops[:0]
	for _, b := range byPrefix {
		run := sc.buf[b]
		for i := 1; i < len(run); i++ {
			if bytes.Compare(run[i-1].key, run[i].key) >= 0 {
				slices.SortStableFunc(run, func(x, y batchOp) int { return bytes.Compare(x.key, y.key) })
				break
			}
		}
		out = append(out, run...)
	}
	for i := 1; i < len(out); i++ {
		if bytes.Equal(out[i-1].key, out[i].key) {
			out[i-1].drop = true
		}
	}
	sc.ops = out
	return out
}

// fragmentDels marks the ops that a later range deletion of the batch
// removes, and returns the range deletions as sorted, disjoint spans.
func (sc *sstScratch) fragmentDels(ops []batchOp) []rangeDel {
	dels := sc.dels
	if len(dels) == 0 {
		return dels
	}
	for _, d := range dels {
		i, _ := slices.BinarySearchFunc(ops, d.start, func(o batchOp, k []byte) int { return bytes.Compare(o.key, k) })
		for ; i < len(ops) && bytes.Compare(ops[i].key, d.end) < 0; i++ {
			if ops[i].idx < d.idx {
				ops[i].drop = true
			}
		}
	}
	slices.SortFunc(dels, func(a, b rangeDel) int { return bytes.Compare(a.start, b.start) })
	out := dels[:1]
	for _, d := range dels[1:] {
		last := &out[len(out)-1]
		if bytes.Compare(d.start, last.end) <= 0 {
			if bytes.Compare(d.end, last.end) > 0 {
				last.end = d.end
			}
			continue
		}
		out = append(out, d)
	}
	return out
}

// removeTables removes written sstables: after an ingestion Pebble has its
// own link, and after a failure they are not wanted.
func removeTables(paths []string) {
	for _, p := range paths {
		_ = os.Remove(p)
	}
}

// ingestPath is where the flush writes its sstables.
func (db *DB) ingestPath() string { return filepath.Join(db.dir, ingestDir) }

// cleanIngestDir removes what a crash left between writing and ingesting.
func cleanIngestDir(dir string) error {
	d := filepath.Join(dir, ingestDir)
	if err := os.RemoveAll(d); err != nil {
		return fmt.Errorf("tsdb: cannot clean %s: %w", d, err)
	}
	if err := os.MkdirAll(d, 0o755); err != nil {
		return fmt.Errorf("tsdb: cannot create %s: %w", d, err)
	}
	return nil
}
