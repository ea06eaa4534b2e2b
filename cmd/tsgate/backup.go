package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/tsgate/tsgate/api"
	"github.com/tsgate/tsgate/tsdb"
)

// cmdBackup runs `tsgate admin backup`: it asks a running node for an online backup.
func cmdBackup(args []string, stdout, stderr io.Writer) error {
	fs := flagSet("admin backup", stderr)
	url := fs.String("url", "http://127.0.0.1:8080", "the node's base URL (env TSGATE_URL)")
	out := fs.String("out", "", "backup directory, inside the node's --backup-dir (relative paths are taken inside it)")
	user := fs.String("user", "admin", "superuser name (env TSGATE_USER)")
	password := fs.String("password", "", "its password (env TSGATE_PASSWORD; else TSGATE_ADMIN_PASSWORD)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if *out == "" {
		return errors.New("admin backup needs --out DIR")
	}
	pw := *password
	if pw == "" {
		pw = os.Getenv("TSGATE_ADMIN_PASSWORD")
	}
	client := &http.Client{Timeout: 30 * time.Minute}
	base := strings.TrimRight(*url, "/")
	body, _ := json.Marshal(map[string]string{"username": *user, "password": pw})
	resp, err := client.Post(base+"/login", "application/json", bytes.NewReader(body))
	if err != nil {
		return fmt.Errorf("cannot reach %s: %w", base, err)
	}
	var key struct {
		Secret string `json:"secret"`
	}
	if err := decodeAnswer(resp, &key); err != nil {
		return fmt.Errorf("login as %s: %w", *user, err)
	}
	body, _ = json.Marshal(map[string]string{"path": *out})
	req, _ := http.NewRequest("POST", base+"/admin/backup", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+key.Secret)
	fmt.Fprintf(stderr, "backing up %s to %s …\n", base, *out)
	start := time.Now()
	resp, err = client.Do(req)
	if err != nil {
		return fmt.Errorf("backup request: %w", err)
	}
	var res struct {
		Path string `json:"path"`
	}
	if err := decodeAnswer(resp, &res); err != nil {
		return fmt.Errorf("backup: %w", err)
	}
	fmt.Fprintf(stdout, "backup written to %s in %s\n", res.Path, time.Since(start).Round(time.Millisecond))
	return nil
}

// decodeAnswer decodes a 200 JSON answer into v, or returns the server's error details.
func decodeAnswer(resp *http.Response, v any) error {
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 {
		var e struct {
			Exception string `json:"exception"`
			Details   any    `json:"details"`
		}
		_ = json.Unmarshal(b, &e)
		return fmt.Errorf("%d %s: %v", resp.StatusCode, e.Exception, e.Details)
	}
	return json.Unmarshal(b, v)
}

// cmdRestore runs `tsgate admin restore`: it copies a backup into an empty data directory of a
// stopped node and checks that the result opens.
func cmdRestore(args []string, stdout, stderr io.Writer) error {
	fs := flagSet("admin restore", stderr)
	from := fs.String("from", "", "backup directory (written by tsgate admin backup)")
	data := fs.String("data", "./data", "empty (or missing) data directory to restore into (env TSGATE_DATA)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if *from == "" {
		return errors.New("admin restore needs --from DIR")
	}
	mb, err := os.ReadFile(filepath.Join(*from, api.ManifestFile))
	if err != nil {
		return fmt.Errorf("%s is not a tsgate backup (no %s): %w", *from, api.ManifestFile, err)
	}
	var m api.BackupManifest
	if err := json.Unmarshal(mb, &m); err != nil {
		return fmt.Errorf("bad backup manifest in %s: %w", *from, err)
	}
	if m.FormatVersion > tsdb.FormatVersion {
		return fmt.Errorf("backup has store format %d, this tsgate reads up to %d: restore it with a newer tsgate", m.FormatVersion, tsdb.FormatVersion)
	}
	if entries, err := os.ReadDir(*data); err == nil && len(entries) > 0 {
		return fmt.Errorf("refusing to restore into %s: it is not empty", *data)
	}
	if err := os.MkdirAll(*data, 0o755); err != nil {
		return err
	}
	entries, err := os.ReadDir(*from)
	if err != nil {
		return err
	}
	n := 0
	for _, e := range entries {
		if e.IsDir() || e.Name() == api.ManifestFile {
			continue
		}
		if err := copyFile(filepath.Join(*from, e.Name()), filepath.Join(*data, e.Name())); err != nil {
			return fmt.Errorf("restore: %w", err)
		}
		n++
	}
	db, err := tsdb.Open(*data, tsdb.Options{})
	if err != nil {
		return fmt.Errorf("the restored store does not open: %w", err)
	}
	if err := db.Close(); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "restored %d files from %s (taken %s) into %s\n", n, *from, m.Received, *data)
	return nil
}

func copyFile(src, dst string) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.OpenFile(dst, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o644)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	if err := out.Sync(); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}
