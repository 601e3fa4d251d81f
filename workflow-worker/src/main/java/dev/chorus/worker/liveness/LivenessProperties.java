package dev.chorus.worker.liveness;

import java.time.Duration;
import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.boot.context.properties.bind.DefaultValue;

/**
 * How workers notice each other's death (see {@link WorkerLiveness}).
 *
 * @param enabled off leaves only Temporal's heartbeat timeout to notice a dead worker
 * @param beat how often a worker says it is alive, and looks for dead peers
 * @param deadAfter silence after which a worker counts as dead and its attempts are failed over; a
 *     JVM that stalls longer than this (GC, CPU starvation) loses its attempts to a peer, which is
 *     safe (superseded attempts are fenced) but wasteful, so keep it well above {@code beat}
 * @param goneAfter silence after which a worker that also has no Redis connection left counts as
 *     dead: a killed process's sockets close at once, so this catches a crash well before {@code
 *     deadAfter}; a live worker reconnecting after a network blip beats again within a beat or two
 */
@ConfigurationProperties("chorus.liveness")
public record LivenessProperties(
    @DefaultValue("true") boolean enabled,
    @DefaultValue("100ms") Duration beat,
    @DefaultValue("1s") Duration deadAfter,
    @DefaultValue("300ms") Duration goneAfter) {}
