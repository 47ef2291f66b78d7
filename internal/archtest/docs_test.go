package archtest

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// TestDocLinks: every relative link in the repository's Markdown files
// names a file or folder that exists, and every link to a heading of a
// Markdown file names a heading it has.
func TestDocLinks(t *testing.T) {
	out, err := exec.Command("git", "-C", "../..", "ls-files", "*.md").Output()
	if err != nil {
		t.Skipf("git ls-files: %v (not a git checkout)", err)
	}
	link := regexp.MustCompile(`\]\(([^)\s]+)\)`)
	for _, md := range strings.Fields(string(out)) {
		if strings.Contains(md, "node_modules/") {
			continue
		}
		path := filepath.Join("../..", md)
		b, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		text := inlineCode.ReplaceAllString(stripFences(string(b)), "")
		for _, m := range link.FindAllStringSubmatch(text, -1) {
			target := m[1]
			if strings.Contains(target, "://") || strings.HasPrefix(target, "mailto:") {
				continue
			}
			file, anchor, _ := strings.Cut(target, "#")
			dest := path
			if file != "" {
				dest = filepath.Join(filepath.Dir(path), file)
				if _, err := os.Stat(dest); err != nil {
					t.Errorf("%s: link %q: no such file", md, target)
					continue
				}
			}
			if anchor != "" && strings.HasSuffix(dest, ".md") {
				d, _ := os.ReadFile(dest)
				if !hasHeading(string(d), anchor) {
					t.Errorf("%s: link %q: %s has no heading #%s", md, target, filepath.Base(dest), anchor)
				}
			}
		}
	}
}

// inlineCode matches a code span.
var inlineCode = regexp.MustCompile("`[^`]*`")

// stripFences removes fenced code blocks, whose brackets are not links and
// whose lines are not headings.
func stripFences(s string) string {
	var b strings.Builder
	in := false
	for _, line := range strings.Split(s, "\n") {
		if strings.HasPrefix(strings.TrimSpace(line), "```") {
			in = !in
			continue
		}
		if !in {
			b.WriteString(line + "\n")
		}
	}
	return b.String()
}

// hasHeading reports whether Markdown text has a heading whose GitHub
// anchor is anchor.
func hasHeading(text, anchor string) bool {
	for _, line := range strings.Split(stripFences(text), "\n") {
		if !strings.HasPrefix(line, "#") {
			continue
		}
		title := strings.TrimSpace(strings.TrimLeft(line, "#"))
		if slug(title) == anchor {
			return true
		}
	}
	return false
}

// slug is GitHub's heading anchor: lower case, spaces to hyphens, and
// punctuation other than hyphens and underscores dropped.
func slug(title string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(strings.ReplaceAll(title, "`", "")) {
		switch {
		case r == ' ':
			b.WriteRune('-')
		case r == '-' || r == '_' || r >= '0' && r <= '9' || r >= 'a' && r <= 'z' || r > 127:
			b.WriteRune(r)
		}
	}
	return b.String()
}
