module github.com/registrar-dev/registrar/policies-examples/statement-roles/go

go 1.26

require github.com/registrar-dev/registrar/sdk/go v0.0.0

replace github.com/registrar-dev/registrar/sdk/go => ../../../sdk/go
