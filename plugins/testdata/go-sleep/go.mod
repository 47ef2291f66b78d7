module github.com/registrar-dev/registrar/plugins/testdata/go-sleep

go 1.26

require github.com/registrar-dev/registrar/sdk/go v0.0.0

replace github.com/registrar-dev/registrar/sdk/go => ../../../sdk/go
