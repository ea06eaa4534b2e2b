package api

import (
	"bytes"
	"fmt"
	"sort"
	"strings"
)

// OpenAPI renders the route table as an OpenAPI 3.1 document (YAML): every route with its
// summary, path parameters, credentials and scope. docs/openapi.yaml is this output, and a
// test keeps the two in step (server/openapi_test.go).
func (rt *Router) OpenAPI(version string) []byte {
	var b bytes.Buffer
	b.WriteString(`# Generated from the route table by api.Router.OpenAPI; do not edit by hand.
# Regenerate: go test ./server -run TestOpenAPIIsCurrent -update
openapi: 3.1.0
info:
  title: tsgate
  description: BBData v2 compatible time-series API with tsgate's extensions (see ../shared/API.md).
  version: ` + yamlString(version) + `
components:
  securitySchemes:
    bbuser:
      type: apiKey
      in: header
      name: bbuser
      description: numeric principal id, together with bbtoken
    bbtoken:
      type: apiKey
      in: header
      name: bbtoken
      description: apikey secret, together with bbuser
    basic:
      type: http
      scheme: basic
      description: base64("<principal id>:<apikey secret>")
    bearer:
      type: http
      scheme: bearer
      description: the apikey secret alone ("Bearer" or "Token")
  schemas:
    Error:
      type: object
      required: [exception, details]
      properties:
        exception:
          type: string
        details:
          oneOf:
            - type: string
            - type: object
              additionalProperties:
                type: string
paths:
`)
	byPath := map[string][]Route{}
	var paths []string
	for _, r := range rt.routes {
		if _, ok := byPath[r.Path]; !ok {
			paths = append(paths, r.Path)
		}
		byPath[r.Path] = append(byPath[r.Path], r)
	}
	sort.Strings(paths)
	for _, p := range paths {
		fmt.Fprintf(&b, "  %s:\n", yamlString(p))
		routes := byPath[p]
		sort.Slice(routes, func(i, j int) bool { return routes[i].Method < routes[j].Method })
		for _, r := range routes {
			fmt.Fprintf(&b, "    %s:\n", strings.ToLower(r.Method))
			fmt.Fprintf(&b, "      summary: %s\n", yamlString(r.Summary))
			fmt.Fprintf(&b, "      x-access: %s\n", r.Access)
			if r.Scope != "" {
				fmt.Fprintf(&b, "      x-scope: %s\n", yamlString(r.Scope))
			}
			if params := pathParams(r.Path); len(params) > 0 {
				b.WriteString("      parameters:\n")
				for _, name := range params {
					fmt.Fprintf(&b, "        - name: %s\n          in: path\n          required: true\n          schema:\n            type: integer\n", name)
				}
			}
			if r.Access == Public {
				b.WriteString("      security: []\n")
			} else {
				b.WriteString("      security:\n        - bbuser: []\n          bbtoken: []\n        - basic: []\n        - bearer: []\n")
			}
			if r.JSONBody {
				b.WriteString("      requestBody:\n        content:\n          application/json: {}\n")
			}
			b.WriteString("      responses:\n        \"200\":\n          description: OK\n")
			if r.Access != Public {
				b.WriteString("        \"401\":\n          description: missing credentials\n          content:\n            application/json:\n              schema:\n                $ref: '#/components/schemas/Error'\n")
				b.WriteString("        \"403\":\n          description: bad apikey, read-only key or missing scope\n          content:\n            application/json:\n              schema:\n                $ref: '#/components/schemas/Error'\n")
			}
			b.WriteString("        default:\n          description: error\n          content:\n            application/json:\n              schema:\n                $ref: '#/components/schemas/Error'\n")
		}
	}
	return b.Bytes()
}

func pathParams(path string) []string {
	var out []string
	for _, seg := range strings.Split(path, "/") {
		if strings.HasPrefix(seg, "{") && strings.HasSuffix(seg, "}") {
			out = append(out, strings.Trim(seg, "{}"))
		}
	}
	return out
}

// yamlString quotes s as a YAML double-quoted scalar.
func yamlString(s string) string {
	return string(AppendJSONString(nil, s))
}
