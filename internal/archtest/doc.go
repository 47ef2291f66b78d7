// Package archtest owns the shape of the repository, as tests: the
// module's import rules (third-party dependencies stay in the package that
// adapts them: go-redis in redisstore, wazero in plugins; metrics does not
// depend on the policy host; router types appear only in the HTTP
// packages' API; internal/testkit is for tests only) and the
// documentation's links. It has no code of its own.
package archtest
