module owt.local/owtclient

go 1.19
