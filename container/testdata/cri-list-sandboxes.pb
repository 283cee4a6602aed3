
ê
@8a17580d86fe656b58d7a2c7ba311d03c1674ae7e925e8496b4e76bbf76bc9bf%

sample-poduid-346c4743	sample-ns Ğ‰›œ–ö*%
io.kubernetes.pod.uiduid-346c4743*(
io.kubernetes.pod.namespace	sample-ns*$
io.kubernetes.pod.name
sample-pod