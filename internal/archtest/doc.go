// Package archtest owns the module's import rules, as a test: third-party
// dependencies stay in the package that adapts them (go-redis in
// redisstore, wazero in plugins), metrics does not depend on the policy
// host, and router types appear only in the HTTP packages' API. It has no
// code of its own.
package archtest
