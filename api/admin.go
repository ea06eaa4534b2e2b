package api

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/cockroachdb/pebble/v2"
	"github.com/valyala/fasthttp"

	"github.com/tsgate/tsgate/tsdb"
)

// admin serves the /admin routes of the operations issue: online backup and compaction.
type admin struct {
	d         Deps
	backupDir string
	version   string
}

// BackupManifest is written beside a backup's Pebble checkpoint (manifest.json).
type BackupManifest struct {
	Tsgate        string `json:"tsgate"`
	FormatVersion int    `json:"formatVersion"`
	// Received is when the backup request was received: every write acknowledged before it is
	// in the checkpoint (its WAL is flushed and copied).
	Received string `json:"received"`
	Finished string `json:"finished"`
}

// ManifestFile is the name of a backup's manifest.
const ManifestFile = "manifest.json"

func (h *admin) register(r *Router) {
	r.HandleE(Route{Method: "POST", Path: "/admin/backup", Access: Write, Scope: "manage:auth", JSONBody: true,
		Summary: "online backup: a Pebble checkpoint plus manifest under --backup-dir (superusers)"}, h.backup)
	r.HandleE(Route{Method: "POST", Path: "/admin/compact", Access: Write, Scope: "manage:auth",
		Summary: "flush the head, merge blocks and compact the store (superusers)"}, h.compact)
}

func (h *admin) superuser(ctx *fasthttp.RequestCtx) error {
	if !h.d.ACL.IsSuperuser(CallerIdentity(ctx).Principal.ID) {
		return Forbidden("only superusers use the /admin routes")
	}
	return nil
}

func (h *admin) backup(ctx *fasthttp.RequestCtx) error {
	received := time.Now().UTC()
	if err := h.superuser(ctx); err != nil {
		return err
	}
	var body struct {
		Path *string `json:"path"`
	}
	if err := DecodeJSON(ctx, &body, true); err != nil {
		return err
	}
	if body.Path == nil || *body.Path == "" {
		return Validation(map[string]string{"path": "must not be empty"})
	}
	dir, err := h.backupTarget(*body.Path)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(dir), 0o755); err != nil {
		return fmt.Errorf("api: cannot create the backup directory: %w", err)
	}
	// A checkpoint hard-links the sstables and copies the flushed WAL: writes go on meanwhile.
	if err := h.d.DB.Pebble().Checkpoint(dir, pebble.WithFlushedWAL()); err != nil {
		return fmt.Errorf("api: backup to %s failed: %w", dir, err)
	}
	m := BackupManifest{Tsgate: h.version, FormatVersion: tsdb.FormatVersion,
		Received: received.Format(time.RFC3339Nano), Finished: time.Now().UTC().Format(time.RFC3339Nano)}
	b, _ := json.MarshalIndent(m, "", "  ")
	if err := os.WriteFile(filepath.Join(dir, ManifestFile), b, 0o644); err != nil {
		return fmt.Errorf("api: cannot write the backup manifest: %w", err)
	}
	WriteJSON(ctx, map[string]any{"path": dir, "manifest": m})
	return nil
}

// backupTarget resolves a requested path inside the allowed backup directory; anything
// outside it, or an existing path, is a 400.
func (h *admin) backupTarget(p string) (string, error) {
	root, err := filepath.Abs(h.backupDir)
	if err != nil {
		return "", err
	}
	target := p
	if !filepath.IsAbs(target) {
		target = filepath.Join(root, target)
	}
	target = filepath.Clean(target)
	if target == root || !strings.HasPrefix(target, root+string(filepath.Separator)) {
		return "", WrongParams("path %q is not inside the backup directory %s (--backup-dir)", p, root)
	}
	if _, err := os.Stat(target); err == nil {
		return "", WrongParams("path %q already exists: a backup goes to a new directory", p)
	} else if !errors.Is(err, os.ErrNotExist) {
		return "", WrongParams("path %q: %v", p, err)
	}
	return target, nil
}

func (h *admin) compact(ctx *fasthttp.RequestCtx) error {
	if err := h.superuser(ctx); err != nil {
		return err
	}
	start := time.Now()
	if err := h.d.DB.Compact(ctx); err != nil {
		return fmt.Errorf("api: compaction failed: %w", err)
	}
	WriteJSON(ctx, map[string]any{"tookMs": time.Since(start).Milliseconds()})
	return nil
}
