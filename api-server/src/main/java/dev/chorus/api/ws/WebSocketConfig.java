package dev.chorus.api.ws;

import jakarta.servlet.http.HttpServletRequestWrapper;
import java.security.Principal;
import java.util.Collections;
import java.util.Enumeration;
import java.util.List;
import java.util.Map;
import org.springframework.boot.web.embedded.tomcat.TomcatConnectorCustomizer;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.http.HttpHeaders;
import org.springframework.http.server.ServerHttpRequest;
import org.springframework.http.server.ServerHttpResponse;
import org.springframework.http.server.ServletServerHttpRequest;
import org.springframework.lang.Nullable;
import org.springframework.web.socket.WebSocketExtension;
import org.springframework.web.socket.WebSocketHandler;
import org.springframework.web.socket.config.annotation.EnableWebSocket;
import org.springframework.web.socket.config.annotation.WebSocketConfigurer;
import org.springframework.web.socket.config.annotation.WebSocketHandlerRegistry;
import org.springframework.web.socket.server.standard.ServletServerContainerFactoryBean;
import org.springframework.web.socket.server.standard.StandardWebSocketUpgradeStrategy;
import org.springframework.web.socket.server.support.DefaultHandshakeHandler;

/**
 * {@code /ws}, and what every connection holds while it is open. Tomcat allocates a WebSocket
 * session's buffers when the session opens, the message buffer sized by the largest message it will
 * assemble, and keeps them for the session's life: with the 64 Ki-character frame limit and
 * Tomcat's 8 KiB defaults that was over 170 KB per idle connection. So Tomcat's buffers stay small
 * (a few KB in all), the handler takes messages in parts and assembles them up to {@code
 * chorus.ws.max-frame-bytes} only while one is in progress (see {@link SessionState#receive}), and
 * longer outgoing events go out as several frames of one message. Measured with {@code
 * infra/bench/run.sh idle}.
 */
@Configuration(proxyBeanMethods = false)
@EnableWebSocket
class WebSocketConfig implements WebSocketConfigurer {
  /** Characters of a text message Tomcat buffers before handing the part to the handler. */
  static final int TEXT_PART_CHARS = 256;

  /** The protocol has no binary messages: any is refused (1003) at its first part. */
  static final int BINARY_PART_BYTES = 128;

  /**
   * Tomcat's WebSocket frame buffers (reading, writing, and encoding text: three per session; the
   * default is 8 KiB each). A message longer than this goes out as several frames of one message.
   */
  static final int FRAME_BUFFER_BYTES = 512;

  /** Tomcat's per-connection socket buffers for HTTP and WebSocket (8 KiB each by default). */
  static final int SOCKET_BUFFER_BYTES = 512;

  private static final String FRAME_BUFFER_PROPERTY =
      "org.apache.tomcat.websocket.DEFAULT_BUFFER_SIZE";

  private final ChatWebSocketHandler handler;
  private final WebSocketProperties properties;

  WebSocketConfig(ChatWebSocketHandler handler, WebSocketProperties properties) {
    this.handler = handler;
    this.properties = properties;
  }

  @Override
  public void registerWebSocketHandlers(WebSocketHandlerRegistry registry) {
    registry
        .addHandler(handler, "/ws")
        .setHandshakeHandler(new DefaultHandshakeHandler(new WithoutHandshakeHeaders()))
        .setAllowedOriginPatterns(properties.allowedOrigins().toArray(String[]::new));
  }

  @Bean
  ServletServerContainerFactoryBean webSocketContainer() {
    var container = new ServletServerContainerFactoryBean();
    container.setMaxTextMessageBufferSize(Math.min(TEXT_PART_CHARS, properties.maxFrameBytes()));
    container.setMaxBinaryMessageBufferSize(BINARY_PART_BYTES);
    return container;
  }

  /**
   * Shrinks the connector's socket buffers, and Tomcat's WebSocket frame buffers, which only a
   * system property read once per JVM sets: this runs before Tomcat starts, so before it is read.
   * An explicit {@code -D} setting wins.
   */
  @Bean
  static TomcatConnectorCustomizer smallConnectionBuffers() {
    return connector -> {
      if (System.getProperty(FRAME_BUFFER_PROPERTY) == null) {
        System.setProperty(FRAME_BUFFER_PROPERTY, Integer.toString(FRAME_BUFFER_BYTES));
      }
      for (String property : new String[] {"socket.appReadBufSize", "socket.appWriteBufSize"}) {
        if (!connector.setProperty(property, Integer.toString(SOCKET_BUFFER_BYTES))) {
          throw new IllegalStateException("Tomcat did not accept " + property);
        }
      }
    };
  }

  /**
   * Upgrades as Spring's standard strategy does, except that neither Spring's session nor Tomcat
   * keeps a copy of the handshake's headers (about 1.5 KB and 2 KB per connection): they are
   * checked during the handshake, and nothing reads them afterwards.
   *
   * <p>And it accepts no WebSocket extension: Tomcat does not see the request's {@code
   * Sec-WebSocket-Extensions}. Every browser offers {@code permessage-deflate}, and Tomcat keeps a
   * zlib compressor and decompressor for each connection that takes it: 10,000 idle connections
   * cost the api-server 153 KB of RSS each with it, 60 KB without (standalone infra/bench idle
   * runs, clients offering it as browsers do). Events are small and go out one by one as they come:
   * little to compress.
   */
  private static final class WithoutHandshakeHeaders extends StandardWebSocketUpgradeStrategy {
    private static final String EXTENSIONS = "Sec-WebSocket-Extensions";

    @Override
    public void upgrade(
        ServerHttpRequest request,
        ServerHttpResponse response,
        @Nullable String selectedProtocol,
        List<WebSocketExtension> selectedExtensions,
        @Nullable Principal user,
        WebSocketHandler wsHandler,
        Map<String, Object> attributes) {
      var servlet =
          new HttpServletRequestWrapper(((ServletServerHttpRequest) request).getServletRequest()) {
            @Override
            public String getHeader(String name) {
              return EXTENSIONS.equalsIgnoreCase(name) ? null : super.getHeader(name);
            }

            @Override
            public Enumeration<String> getHeaders(String name) {
              return EXTENSIONS.equalsIgnoreCase(name)
                  ? Collections.emptyEnumeration()
                  : super.getHeaders(name);
            }

            // Tomcat copies every listed header into a map that it keeps for the connection's
            // life (about 2 KB each); it reads the ones the upgrade needs by name.
            @Override
            public Enumeration<String> getHeaderNames() {
              return Collections.emptyEnumeration();
            }
          };
      var withoutHeaders =
          new ServletServerHttpRequest(servlet) {
            @Override
            public HttpHeaders getHeaders() {
              return HttpHeaders.EMPTY;
            }
          };
      super.upgrade(
          withoutHeaders,
          response,
          selectedProtocol,
          selectedExtensions,
          user,
          wsHandler,
          attributes);
    }
  }
}
