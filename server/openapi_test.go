package server_test

import (
	"bytes"
	"flag"
	"os"
	"strconv"
	"strings"
	"testing"

	"github.com/tsgate/tsgate/server"
)

var update = flag.Bool("update", false, "rewrite golden files (docs/openapi.yaml)")

// TestOpenAPIIsCurrent fails when a registered route is missing from docs/openapi.yaml or the
// document lists a route the server does not have (the document is generated from the route
// table; regenerate with -update).
func TestOpenAPIIsCurrent(t *testing.T) {
	n, err := server.Open(server.Config{DataDir: t.TempDir(), AdminPassword: "secret-pw", PasswordCost: 4})
	if err != nil {
		t.Fatal(err)
	}
	defer n.Close()
	want := n.API.Router().OpenAPI("current")
	const path = "../docs/openapi.yaml"
	if *update {
		if err := os.WriteFile(path, want, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	got, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (generate it with -update)", err)
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("docs/openapi.yaml is stale: run go test ./server -run TestOpenAPIIsCurrent -update\n%s", firstDiff(string(got), string(want)))
	}
	for _, r := range n.API.Router().Routes() {
		if !strings.Contains(string(got), "  \""+r.Path+"\":\n") {
			t.Errorf("route %s %s missing from docs/openapi.yaml", r.Method, r.Path)
		}
	}
}

func firstDiff(a, b string) string {
	al, bl := strings.Split(a, "\n"), strings.Split(b, "\n")
	for i := 0; i < len(al) && i < len(bl); i++ {
		if al[i] != bl[i] {
			return "line " + strconv.Itoa(i+1) + ":\n  file: " + al[i] + "\n  code: " + bl[i]
		}
	}
	return "lengths differ"
}
