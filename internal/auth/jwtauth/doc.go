// Package jwtauth authenticates connections with JSON Web Tokens
// (--auth jwt): compact JWS tokens signed with HS256, RS256 or ES256,
// verified with the standard library only.
//
// # Where the token comes from
//
// auth.token in the CONNECT payload (the client's io(url, {auth: {token}}))
// first, then the configured cookie, then the configured query parameter.
// The first one present is the token; a bad token there is refused even if
// another source holds a good one.
//
// # What is accepted
//
// Strictly what the configured key allows:
//
//   - One algorithm, the key's: HS256 with an HMAC secret, RS256 with an RSA
//     public key, ES256 with a P-256 public key. alg "none" is refused, and
//     so is an HS256 token when the key is public (the algorithm-confusion
//     attack that "verifies" an HMAC keyed with the public key).
//   - ES256 signatures in the JWS form, r||s in 64 bytes (not DER).
//   - The header may not carry crit; kid, typ, jku, x5u and the like are
//     ignored (the key is configured, never taken from the token).
//   - Duplicate JSON member names in the header or the claims are refused.
//   - exp is required: a token without an expiry could never be revoked.
//     nbf and iat, when present, are honoured (iat may not be in the
//     future). Leeway (default 30s) absorbs clock skew for all three.
//   - aud must name the configured audience. A token carrying an aud when
//     none is configured is refused (RFC 7519 §4.1.3). iss must equal the
//     configured issuer when one is.
//   - The user id is the configured claim (default sub): a non-empty string,
//     or an integer kept exactly as written (12345678901234567890 stays
//     12345678901234567890, not a rounded float).
//   - Tokens longer than 8 KiB are refused before any parsing.
//
// The identity's Session is the claims JSON; its SessionRef is empty:
// herald cannot revoke a token, which is valid until its exp. Keep exp
// short (minutes) and have the client fetch a fresh token to reconnect.
//
// # The Rails side
//
// With the jwt gem, an action behind Devise mints a short-lived token the
// page passes to io(url, {auth: {token}}); the secret is the one herald is
// given (HERALD_JWT_SECRET here, at least 32 bytes):
//
//	# config/routes.rb
//	get "/herald/token", to: "herald_tokens#show"
//
//	# app/controllers/herald_tokens_controller.rb
//	class HeraldTokensController < ApplicationController
//	  before_action :authenticate_user!   # Devise: warden.authenticate!(scope: :user)
//
//	  def show
//	    claims = { sub: current_user.id.to_s, aud: "herald", exp: 5.minutes.from_now.to_i, iat: Time.now.to_i }
//	    render json: { token: JWT.encode(claims, ENV.fetch("HERALD_JWT_SECRET"), "HS256") }
//	  end
//	end
//
// For RS256 or ES256 the app signs with its private key
// (JWT.encode(claims, OpenSSL::PKey::EC.new(pem), "ES256")) and herald is
// given only the public key.
package jwtauth
