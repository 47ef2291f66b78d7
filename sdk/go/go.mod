module github.com/registrar-dev/registrar/sdk/go

go 1.26
