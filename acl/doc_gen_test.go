package acl

import (
	"flag"
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite generated files (docs/authorization.md)")

const authDocPath = "../docs/authorization.md"

func TestAuthorizationDocIsFresh(t *testing.T) {
	want := GenerateAuthorizationDoc()
	if *update {
		if err := os.WriteFile(authDocPath, []byte(want), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	got, err := os.ReadFile(authDocPath)
	if err != nil {
		t.Fatalf("%v (generate it: go test ./acl -run AuthorizationDoc -update)", err)
	}
	if string(got) != want {
		t.Fatalf("%s is stale: go test ./acl -run AuthorizationDoc -update", authDocPath)
	}
}

// TestPoliciesHaveTests: every DONE or PARTIAL policy is proven by a test carrying
// its key; every key is unique and well-formed.
func TestPoliciesHaveTests(t *testing.T) {
	files, _ := filepath.Glob("*_test.go")
	var names []string
	fs := token.NewFileSet()
	for _, f := range files {
		af, err := parser.ParseFile(fs, f, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		for _, d := range af.Decls {
			if fd, ok := d.(*ast.FuncDecl); ok && strings.HasPrefix(fd.Name.Name, "Test") {
				names = append(names, fd.Name.Name)
			}
		}
	}
	seen := map[string]bool{}
	for _, p := range Policies {
		if seen[p.Key] {
			t.Errorf("duplicate policy key %s", p.Key)
		}
		seen[p.Key] = true
		if p.Status != Done && p.Status != Partial {
			continue
		}
		k := strings.ReplaceAll(p.Key, "-", "_")
		found := false
		for _, n := range names {
			found = found || strings.Contains(n, k)
		}
		if !found {
			t.Errorf("policy %s (%s) has no test named with %s", p.Key, p.Status, k)
		}
	}
}
