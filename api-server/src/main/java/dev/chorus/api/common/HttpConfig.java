package dev.chorus.api.common;

import com.fasterxml.jackson.databind.ObjectMapper;
import org.springframework.boot.context.properties.EnableConfigurationProperties;
import org.springframework.boot.web.servlet.FilterRegistrationBean;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.core.Ordered;

@Configuration(proxyBeanMethods = false)
@EnableConfigurationProperties(HttpLimits.class)
class HttpConfig {
  /** Ahead of Spring Security, so an oversize body is refused before anything reads it. */
  @Bean
  FilterRegistrationBean<BodySizeLimitFilter> bodySizeLimit(HttpLimits limits, ObjectMapper json) {
    var registration = new FilterRegistrationBean<>(new BodySizeLimitFilter(limits, json));
    registration.setOrder(Ordered.HIGHEST_PRECEDENCE + 20);
    return registration;
  }
}
