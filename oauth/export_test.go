package oauth

import "context"

// IssueJWT is issueJWT, for the tests of claims that no grant of this
// package sets yet (the hook's extra claims, cnf).
func (s *Server) IssueJWT(ctx context.Context, issuer string, t *Token) (string, error) {
	return s.issueJWT(ctx, issuer, t)
}
