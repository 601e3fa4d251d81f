package dev.chorus.worker.support;

import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;
import org.junit.jupiter.api.extension.ExtendWith;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.test.context.ActiveProfiles;

/**
 * The worker's Spring context against the real local PostgreSQL and Redis (profile {@code test}: db
 * {@code chorus_test}, Redis db 1, a fresh key prefix per context, no Temporal worker polling). The
 * stack is checked first, so a missing service fails the class with a clear message.
 */
@Target(ElementType.TYPE)
@Retention(RetentionPolicy.RUNTIME)
@ExtendWith(StackRequired.class)
@SpringBootTest(webEnvironment = SpringBootTest.WebEnvironment.NONE)
@ActiveProfiles("test")
public @interface WorkerIntegrationTest {}
