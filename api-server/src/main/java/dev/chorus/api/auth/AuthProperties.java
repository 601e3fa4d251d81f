package dev.chorus.api.auth;

import java.time.Duration;
import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.boot.context.properties.bind.DefaultValue;

/**
 * @param tokenTtl how long a login token is valid
 */
@ConfigurationProperties("chorus.auth")
public record AuthProperties(@DefaultValue("30d") Duration tokenTtl) {}
