// Package coord is the Redis-backed coordination between replicas.
package coord

import _ "github.com/redis/go-redis/v9"
