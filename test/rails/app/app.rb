# A minimal Rails 6.1 + Devise app for herald's end-to-end test
# (test/rails/rails_test.go). One file, no Gemfile: it runs on Debian's
# packaged gems only (ruby-rails, ruby-devise, ruby-redis-actionpack,
# ruby-sqlite3), with no `bundle install` and no network.
#
#   ruby app.rb
#
# Environment:
#   SECRET_KEY_BASE   the app's secret_key_base (required)
#   SESSION_STORE     cookie (Rails' encrypted cookie store, the default) or
#                     redis (redis-actionpack's ActionDispatch::Session::RedisStore)
#   SESSION_COOKIE    session cookie name (default _e2e_session)
#   COOKIES_SERIALIZER json (default, as in a generated 6.1 app), marshal or hybrid
#   REDIS_URL         Redis for notifications and the redis session store
#   SESSION_NAMESPACE redis-store namespace of session keys (default session;
#                     keys are "<namespace>:2::<sha256 of the session id>")
#   NOTIFY_CHANNEL    channel herald listens on (default herald:notify)
#   USER_EMAIL, USER_PASSWORD  the seeded Devise user
#   DB_DIR            directory of the SQLite database (default: a temp dir)
#   PORT              port on 127.0.0.1 (default 0: any free port)
# Prints "E2E_RAILS_LISTENING http://127.0.0.1:<port>" once it serves.

$stdout.sync = $stderr.sync = true
require "logger"
require "tmpdir"
require "json"
require "uri"

db_dir = ENV["DB_DIR"] || Dir.mktmpdir("herald-e2e-rails")
ENV["DATABASE_URL"] = "sqlite3:#{File.join(db_dir, "e2e.sqlite3")}"
ENV["RAILS_ENV"] ||= "production" # no reloading, no web console; errors still logged

require "rails"
require "active_record/railtie"
require "action_controller/railtie"
require "action_view/railtie"
require "devise"
require "redis"
require "redis-actionpack"
require "webrick"
require "rack/handler/webrick"

REDIS_URL = ENV.fetch("REDIS_URL", "redis://127.0.0.1:6379/0")
STORE = ENV.fetch("SESSION_STORE", "cookie")
COOKIE = ENV.fetch("SESSION_COOKIE", "_e2e_session")

class E2EApp < Rails::Application
  config.load_defaults 6.1
  config.root = __dir__
  config.eager_load = false
  config.secret_key_base = ENV.fetch("SECRET_KEY_BASE")
  config.logger = ActiveSupport::Logger.new($stdout)
  config.log_level = :info
  config.cache_store = :null_store
  config.hosts.clear
  config.require_master_key = false
  config.public_file_server.enabled = false
  config.action_dispatch.cookies_serializer = ENV.fetch("COOKIES_SERIALIZER", "json").to_sym
  config.filter_parameters += [:passw, :secret, :token, :_key, :crypt, :salt, :certificate, :otp, :ssn]

  case STORE
  when "cookie"
    config.session_store :cookie_store, key: COOKIE
  when "redis"
    u = URI.parse(REDIS_URL)
    server = { host: u.host, port: u.port || 6379, db: u.path.to_s.delete_prefix("/").to_i,
               namespace: ENV.fetch("SESSION_NAMESPACE", "session") }
    server[:password] = URI.decode_www_form_component(u.password) if u.password
    config.session_store :redis_store, servers: [server], key: COOKIE, expire_after: 90 * 60
  else
    abort "SESSION_STORE must be cookie or redis, not #{STORE.inspect}"
  end

  # The database and the seeded user exist before the routes are loaded
  # (Devise's devise_for needs the model).
  config.after_initialize do
    ActiveRecord::Migration.verbose = false
    ActiveRecord::Schema.define do
      create_table :users, force: true do |t|
        t.string :email, null: false, default: ""
        t.string :encrypted_password, null: false, default: ""
        t.timestamps null: false
      end
      add_index :users, :email, unique: true
    end

    class ::User < ActiveRecord::Base
      devise :database_authenticatable
    end

    User.create!(email: ENV.fetch("USER_EMAIL", "user@example.com"),
                 password: ENV.fetch("USER_PASSWORD", "password123"))
  end

  # Routes with no config/routes.rb: prepended blocks are drawn when the
  # route sets are cleared, after after_initialize (so User exists) and before
  # any route set is finalized (Devise configures Warden and its URL helpers,
  # once, at the first finalize: the mapping must exist by then).
  routes.prepend do
    devise_for :users
    root to: "home#show"
    post "/notify", to: "home#notify"
  end
end

Devise.setup do |config|
  require "devise/orm/active_record"
  config.mailer_sender = "e2e@example.com"
  config.stretches = 1 # bcrypt's minimum cost; this is a test
  config.sign_out_via = :delete
  config.skip_session_storage = [:http_auth]
end

REDIS = Redis.new(url: REDIS_URL)

Rails.application.initialize!

# Controllers after initialize!, so that they inherit the route helpers.
class ApplicationController < ActionController::Base
end

class HomeController < ApplicationController
  before_action :authenticate_user!

  def show
    render inline: <<~ERB
      <!doctype html>
      <html><head><title>herald e2e</title><%= csrf_meta_tags %></head><body>
      <p id="notice"><%= notice %></p>
      <p id="who">Signed in as <%= current_user.email %> (id <%= current_user.id %>)</p>
      <%= form_tag "/notify", id: "notify" do %>
        <%= text_field_tag :title, "Hello from Rails" %>
        <%= submit_tag "Notify me" %>
      <% end %>
      <%= button_to "Sign out", destroy_user_session_path, method: :delete, form: { id: "sign-out" } %>
      </body></html>
    ERB
  end

  def notify
    msg = { user: current_user.id, event: "notification", data: { title: params.require(:title) } }
    receivers = REDIS.publish(ENV.fetch("NOTIFY_CHANNEL", "herald:notify"), msg.to_json)
    redirect_to root_path, notice: "Published to #{receivers} subscriber(s)"
  end
end

server = nil
Rack::Handler::WEBrick.run(
  Rails.application,
  Host: "127.0.0.1", Port: Integer(ENV.fetch("PORT", "0")),
  AccessLog: [], Logger: WEBrick::Log.new($stderr, WEBrick::Log::WARN),
  StartCallback: -> { $stdout.puts "E2E_RAILS_LISTENING http://127.0.0.1:#{server.config[:Port]}"; $stdout.flush }
) do |s|
  server = s
  %w[INT TERM].each { |sig| trap(sig) { s.shutdown } } # a quiet stop
end
