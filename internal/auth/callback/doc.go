// Package callback authenticates connections by asking the Rails app
// (--auth http): herald POSTs what the connection presents to an endpoint
// of the app and takes the user from its answer.
//
// # The exchange
//
//	POST <URL>
//	Content-Type: application/json
//
//	{"cookies": {"_myapp_session": "...", ...},  // the handshake's cookies
//	 "auth": {"token": "..."},                  // the CONNECT payload, or null
//	 "headers": {"User-Agent": "..."},          // only those configured
//	 "remote_addr": "203.0.113.7:51234"}
//
// The cookies travel in the body, never as a Cookie header of herald's
// request, so the endpoint's own session and CSRF handling see a plain
// server-to-server call.
//
//   - 200 {"user_id": "42" or 42, "session": {...any JSON, optional}}: the
//     user (an integer id is kept exactly as written); "session" becomes
//     the identity's Session.
//   - 401 or 403: not signed in; the client gets "Unauthorized user".
//   - Anything else (5xx, a redirect, a timeout, a refused connection, an
//     answer that is not JSON, has no user_id or exceeds 64 KiB): the
//     session could not be checked; the client gets the retryable
//     "Authentication is temporarily unavailable" CONNECT_ERROR and herald
//     logs the reason (never the cookies).
//
// # Cache and coalescing
//
// Answers are cached for CacheTTL (default 5s; negative disables),
// refusals for at most one second, outages never. The cache key is the
// SHA-256 of the Cookie header, the CONNECT payload, the forwarded headers
// and the client's IP address (without the port, which changes on every
// reconnection): exactly what the app is shown, so a cached answer is one
// the app gave for the same question. At most 10,000 entries are kept,
// the oldest evicted first. Identical lookups made while a call is running
// share that call, so a reconnect storm costs the app one request per
// distinct session, not one per socket.
//
// A consequence: for up to CacheTTL after signing out, a connection
// presenting the old cookies is still accepted. Signing out normally
// replaces the cookies, so this only matters for replayed cookies. The
// identity's SessionRef is empty: connections are not disconnected when
// the session ends (use rails-redis-store for that).
//
// # The Rails side
//
// The endpoint must be reachable by herald only (an internal address, or
// a firewall rule): it answers "who is this?" for any cookies it is given.
// It must not sit behind authenticate_user! or a login redirect. With the
// cookie store and Devise, the action rebuilds a request from the cookies
// herald forwards and reads the session through the app's own cookie jar:
//
//	# config/routes.rb
//	post "/herald/auth", to: "herald_auth#create"
//
//	# app/controllers/herald_auth_controller.rb
//	class HeraldAuthController < ActionController::API
//	  def create
//	    cookie_header = params.fetch(:cookies, {}).to_unsafe_h.map { |k, v| "#{k}=#{v}" }.join("; ")
//	    env = Rails.application.env_config.merge(Rack::MockRequest.env_for("/", "HTTP_COOKIE" => cookie_header))
//	    jar = ActionDispatch::Request.new(env).cookie_jar
//	    session = jar.encrypted[Rails.application.config.session_options[:key]] || {}
//	    key, salt = session["warden.user.user.key"]          # Devise: [[id], salt]
//	    user = key && User.serialize_from_session(key, salt) # nil if the salt no longer matches
//	    return head :unauthorized unless user
//	    render json: { user_id: user.id, session: { name: user.name } }
//	  end
//	end
//
// serialize_from_session is what warden.authenticate(scope: :user) does
// with that session key, including the salt check that makes a password
// change sign the user out everywhere. Apps with a server-side session
// store, or a token in auth.token, look the user up their own way: the
// contract is only the JSON above.
package callback
