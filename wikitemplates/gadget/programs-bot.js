var programsBotConfig = /*CONFIG*/{}/*END*/;
// programs-bot gadget: the Join button on program pages (MediaWiki 1.39, ResourceLoader).
//
// Source: wikitemplates/gadget/programs-bot.js in the programs-bot repository. Do not edit
// the copy on the wiki: `programs-bot deploy` overwrites it (see bot/gadget.py).
//
// Configuration contract. The first line holds the CONFIG placeholder, an empty object
// between the comments CONFIG and END. The deploy step (bot/gadget.py, gadget_pages)
// replaces that object with a JSON object, escaped so that it can neither end the script
// nor be changed by the wiki's pre-save transform:
//   apiUrl     the Join API's base URL, without a trailing slash
//   apiOrigin  that URL's origin (scheme://host[:port]): sign-in messages from the popup are
//              accepted from this origin only
//   lang       the wiki's content language; messages[lang] holds every message
//   messages   { languageCode: { messageKey: text } } from i18n/gadget/*.json; the gadget
//              picks each message from the user's language fallback chain, then lang
//   pollSeconds (optional) seconds between two "has the bot written my join?" checks
// Without an apiUrl (the placeholder left empty) the gadget does nothing.
//
// ES5 only: MediaWiki 1.39 validates gadget scripts as ECMAScript 5.
( function () {
	'use strict';

	var config = programsBotConfig || {};
	var apiUrl = String( config.apiUrl || '' ).replace( /\/+$/, '' );
	var apiOrigin = String( config.apiOrigin || '' );
	var STORAGE_KEY = 'programs-bot-token:' + apiOrigin;
	var POLL_MS = Math.max( 1, Number( config.pollSeconds ) || 3 ) * 1000;
	var POLL_LIMIT_MS = 10 * 60 * 1000;
	var PAGE_TRIES = 4;
	// The API's error codes that mean: this sign-in is no good, forget it.
	var DROP_TOKEN = { 'missing-token': true, 'invalid-token': true, 'wrong-wiki': true };
	// Errors the gadget finds itself, and their messages.
	var LOCAL_ERRORS = {
		'popup-blocked': 'programs-bot-gadget-popup-blocked',
		'popup-closed': 'programs-bot-gadget-popup-closed'
	};
	var ACTION_MESSAGES = {
		join: {
			recorded: 'programs-bot-gadget-join-recorded',
			applied: 'programs-bot-gadget-join-applied',
			failed: 'programs-bot-gadget-join-failed'
		},
		leave: {
			recorded: 'programs-bot-gadget-leave-recorded',
			applied: 'programs-bot-gadget-leave-applied',
			failed: 'programs-bot-gadget-leave-failed'
		}
	};

	var memoryToken = null; // when sessionStorage is not available
	var signInInProgress = null;
	var currentPanel = null;
	// A note to show once the page's content has been replaced (and the panel rebuilt).
	var flash = null;

	// -- messages ----------------------------------------------------------------------------

	function registerMessages() {
		var all = config.messages || {};
		var chain = [];
		var chosen = {};
		var i, lang, key;
		try {
			chain = mw.language.getFallbackLanguageChain().slice();
		} catch ( e ) {
			chain = [ mw.config.get( 'wgUserLanguage' ) ];
		}
		chain.push( config.lang || 'en', 'en' );
		// Key by key: the first language of the chain that has the message.
		for ( i = chain.length - 1; i >= 0; i-- ) {
			lang = all[ chain[ i ] ];
			if ( lang ) {
				for ( key in lang ) {
					if ( Object.prototype.hasOwnProperty.call( lang, key ) ) {
						chosen[ key ] = lang[ key ];
					}
				}
			}
		}
		mw.messages.set( chosen );
	}

	function msg( key ) {
		return mw.message.apply( mw, arguments ).text();
	}

	function errorText( error ) {
		var key, minutes;
		if ( LOCAL_ERRORS[ error.code ] ) {
			return msg( LOCAL_ERRORS[ error.code ] );
		}
		key = 'programs-bot-gadget-error-' + error.code;
		if ( error.code === 'rate-limited' ) {
			minutes = Math.max( 1, Math.ceil( ( Number( error.retryAfter ) || 60 ) / 60 ) );
			return msg( key, minutes );
		}
		if ( mw.messages.exists( key ) ) {
			return msg( key );
		}
		return msg( 'programs-bot-gadget-error-unknown', error.code, error.message || '' );
	}

	// -- the sign-in token (sessionStorage, one per API origin) ------------------------------

	function readToken() {
		var raw = null;
		var data = memoryToken;
		if ( !data ) {
			try {
				raw = window.sessionStorage.getItem( STORAGE_KEY );
				data = raw ? JSON.parse( raw ) : null;
			} catch ( e ) {
				data = null;
			}
		}
		if ( !data || typeof data.token !== 'string' || !data.token ) {
			return null;
		}
		if ( data.expires && !( Date.parse( data.expires ) > Date.now() ) ) {
			dropToken();
			return null;
		}
		// Someone else logged in to the wiki in this tab since: not their token.
		if ( mw.config.get( 'wgUserName' ) && data.username &&
			mw.config.get( 'wgUserName' ) !== data.username ) {
			dropToken();
			return null;
		}
		return data;
	}

	function saveToken( data ) {
		memoryToken = data;
		try {
			window.sessionStorage.setItem( STORAGE_KEY, JSON.stringify( data ) );
			memoryToken = null;
		} catch ( e ) {}
	}

	function dropToken() {
		memoryToken = null;
		try {
			window.sessionStorage.removeItem( STORAGE_KEY );
		} catch ( e ) {}
	}

	// Opens the API's sign-in popup (must run inside a click handler, or popups are blocked).
	// Resolves with the token data, rejects with { code, message }.
	function signIn() {
		var deferred, popup, timer, closedSince = null;
		if ( signInInProgress ) {
			try {
				signInInProgress.popup.focus();
			} catch ( e ) {}
			return signInInProgress.promise;
		}
		popup = window.open(
			apiUrl + '/oauth/start?wiki=' + encodeURIComponent( location.host ),
			'programsBotSignIn',
			'popup=yes,width=640,height=720'
		);
		if ( !popup ) {
			return $.Deferred().reject( { code: 'popup-blocked' } ).promise();
		}
		deferred = $.Deferred();

		function finish() {
			window.removeEventListener( 'message', onMessage );
			clearInterval( timer );
			signInInProgress = null;
		}

		function onMessage( event ) {
			var data = event.data;
			if ( event.origin !== apiOrigin || event.source !== popup ||
				!data || typeof data !== 'object' ) {
				return;
			}
			if ( data.type === 'programs-bot-token' && typeof data.token === 'string' ) {
				finish();
				data = {
					token: data.token,
					username: String( data.username || '' ),
					wiki: String( data.wiki || '' ),
					expires: String( data.expires || '' )
				};
				saveToken( data );
				deferred.resolve( data );
			} else if ( data.type === 'programs-bot-error' ) {
				finish();
				deferred.reject( {
					code: String( data.code || 'unknown' ),
					message: String( data.message || '' )
				} );
			}
		}

		window.addEventListener( 'message', onMessage );
		// A popup closed without a message: give a message posted just before a second.
		timer = setInterval( function () {
			if ( !popup.closed ) {
				return;
			}
			if ( closedSince === null ) {
				closedSince = Date.now();
			} else if ( Date.now() - closedSince > 1000 ) {
				finish();
				deferred.reject( { code: 'popup-closed' } );
			}
		}, 400 );
		signInInProgress = { popup: popup, promise: deferred.promise() };
		return signInInProgress.promise;
	}

	// -- the Join API ------------------------------------------------------------------------

	function programPath() {
		var title = encodeURIComponent( mw.config.get( 'wgPageName' ) )
			.replace( /%2F/g, '/' ).replace( /%3A/g, ':' );
		return '/api/v1/programs/' + encodeURIComponent( location.host ) + '/' + title;
	}

	function toError( xhr ) {
		var body = xhr.responseJSON;
		if ( body && body.error && typeof body.error.code === 'string' ) {
			return {
				code: body.error.code,
				message: String( body.error.message || '' ),
				retryAfter: xhr.getResponseHeader( 'Retry-After' )
			};
		}
		if ( !xhr.status ) {
			return { code: 'network', message: String( xhr.statusText || '' ) };
		}
		return { code: 'http-' + xhr.status, message: String( xhr.statusText || '' ) };
	}

	// Resolves with the JSON answer, rejects with { code, message, retryAfter }.
	function call( method, path, token ) {
		var headers = {};
		if ( token ) {
			headers.Authorization = 'Bearer ' + token.token;
		}
		return $.ajax( {
			url: apiUrl + path,
			type: method,
			headers: headers,
			dataType: 'json',
			timeout: 30000
		} ).then( function ( data ) {
			return data;
		}, function ( xhr ) {
			return $.Deferred().reject( toError( xhr ) ).promise();
		} );
	}

	// -- the page's content ------------------------------------------------------------------

	function normalizeName( name ) {
		name = String( name || '' ).replace( /_/g, ' ' ).replace( /\s+/g, ' ' ).trim();
		return name.charAt( 0 ).toUpperCase() + name.slice( 1 );
	}

	function ownRows( $root, username ) {
		var wanted = normalizeName( username );
		return $root.find( 'tr.programs-bot-participant' ).filter( function () {
			return normalizeName( this.getAttribute( 'data-username' ) ) === wanted;
		} );
	}

	function highlightOwnRow( $root, username ) {
		$root.find( 'tr.programs-bot-own-row' ).removeClass( 'programs-bot-own-row' ).removeAttr( 'title' );
		if ( username ) {
			ownRows( $root, username ).addClass( 'programs-bot-own-row' )
				.attr( 'title', msg( 'programs-bot-gadget-your-row' ) );
		}
	}

	// Replaces the rendered page with its current version (action=parse) and fires
	// wikipage.content on it, which rebuilds the panel. Resolves with the new content.
	function reloadContent() {
		var $old = $( '#mw-content-text' ).children( '.mw-parser-output' ).first();
		if ( !$old.length ) {
			return $.Deferred().reject().promise();
		}
		return new mw.Api().get( {
			action: 'parse',
			page: mw.config.get( 'wgPageName' ),
			prop: 'text',
			uselang: mw.config.get( 'wgUserLanguage' ),
			formatversion: 2
		} ).then( function ( data ) {
			var $new = $( $.parseHTML( data.parse.text ) ).filter( '.mw-parser-output' ).first();
			if ( !$new.length ) {
				return $.Deferred().reject().promise();
			}
			$old.replaceWith( $new );
			mw.hook( 'wikipage.content' ).fire( $new );
			return $new;
		} );
	}

	// After the bot's edit: reload the content until it shows the change (the parser cache
	// of a busy wiki may lag a moment), with the note shown by the rebuilt panel.
	function showChange( action, username, tries ) {
		var note = { text: msg( ACTION_MESSAGES[ action ].applied ), type: 'success' };
		flash = note;
		reloadContent().then( function ( $new ) {
			var shown = ownRows( $new, username ).length > 0;
			if ( shown === ( action === 'join' ) ) {
				return;
			}
			if ( tries > 1 ) {
				setTimeout( function () {
					showChange( action, username, tries - 1 );
				}, 1500 );
			}
		}, function () {
			flash = null;
			if ( currentPanel ) {
				currentPanel.say( msg( 'programs-bot-gadget-reload-failed' ), 'notice' );
			}
		} );
	}

	// -- the panel ---------------------------------------------------------------------------

	function button( label, title, classes ) {
		return $( '<button>' ).attr( { type: 'button', title: title } )
			.addClass( 'mw-ui-button ' + classes ).text( label );
	}

	function Panel( $box ) {
		var self = this;
		this.$box = $box;
		this.registration = String( $box.attr( 'data-registration' ) || 'open' );
		this.summary = null;
		this.busy = false;
		this.pollTimer = null;
		this.$state = $( '<ul>' ).addClass( 'programs-bot-panel-state' );
		this.$join = button( msg( 'programs-bot-gadget-join' ),
			msg( 'programs-bot-gadget-join-title' ),
			'mw-ui-progressive programs-bot-panel-join' );
		this.$leave = button( msg( 'programs-bot-gadget-leave' ),
			msg( 'programs-bot-gadget-leave-title' ),
			'mw-ui-destructive programs-bot-panel-leave' );
		this.$refresh = button( msg( 'programs-bot-gadget-refresh' ),
			msg( 'programs-bot-gadget-refresh-title' ),
			'programs-bot-panel-refresh' );
		this.$message = $( '<div>' ).addClass( 'programs-bot-panel-message' )
			.attr( { role: 'status', 'aria-live': 'polite' } );
		this.$el = $( '<div>' ).addClass( 'programs-bot-panel' ).append(
			$( '<div>' ).addClass( 'programs-bot-panel-heading' )
				.text( msg( 'programs-bot-gadget-label' ) ),
			this.$state,
			$( '<div>' ).addClass( 'programs-bot-panel-buttons' )
				.append( this.$join, this.$leave, this.$refresh ),
			this.$message
		);
		this.$join.on( 'click', function () {
			self.act( 'join' );
		} );
		this.$leave.on( 'click', function () {
			self.act( 'leave' );
		} );
		this.$refresh.on( 'click', function () {
			self.act( 'refresh' );
		} );
		$box.append( this.$el );
		this.render();
		if ( flash ) {
			this.say( flash.text, flash.type );
			flash = null;
		}
		this.load();
	}

	Panel.prototype.say = function ( text, type, code ) {
		this.$message.attr( 'class', 'programs-bot-panel-message' +
			( type ? ' programs-bot-panel-message-' + type : '' ) )
			.attr( 'data-code', code || null )
			.text( text || '' );
	};

	Panel.prototype.fail = function ( error ) {
		if ( DROP_TOKEN[ error.code ] ) {
			dropToken();
			this.load();
		}
		this.say( errorText( error ), 'error', error.code );
	};

	Panel.prototype.setBusy = function ( busy ) {
		this.busy = busy;
		this.$el.find( 'button' ).prop( 'disabled', busy );
		this.$el.toggleClass( 'programs-bot-panel-busy', busy );
	};

	Panel.prototype.render = function () {
		var s = this.summary;
		var token = readToken();
		var registration = s ? s.registration : this.registration;
		var joined = !!( s && s.joined );
		var $state = this.$state.empty();
		function line( text, cls ) {
			$state.append( $( '<li>' ).addClass( cls ).text( text ) );
		}
		if ( s && s.ended ) {
			line( msg( 'programs-bot-gadget-ended' ), 'programs-bot-panel-ended' );
		} else {
			line( msg( registration === 'open' ?
				'programs-bot-gadget-registration-open' :
				'programs-bot-gadget-registration-closed' ), 'programs-bot-panel-registration' );
		}
		if ( !s ) {
			line( msg( 'programs-bot-gadget-loading' ), 'programs-bot-panel-loading' );
		} else {
			if ( s.start && s.end ) {
				line( msg( 'programs-bot-gadget-dates', formatDate( s.start ), formatDate( s.end ) ),
					'programs-bot-panel-dates' );
			}
			line( msg( 'programs-bot-gadget-participants', Number( s.participant_count ) || 0 ),
				'programs-bot-panel-count' );
		}
		if ( token ) {
			line( msg( 'programs-bot-gadget-signed-in', token.username ), 'programs-bot-panel-user' );
			if ( joined ) {
				line( msg( s.join_state === 'on-page' ?
					'programs-bot-gadget-you-listed' :
					'programs-bot-gadget-you-joined' ), 'programs-bot-panel-joined' );
			}
		}
		// Leave only for a join the Join button made; rows written by hand are the organizers'.
		this.$join.toggle( !joined );
		this.$leave.toggle( joined && s.join_state !== 'on-page' );
		highlightOwnRow( $( '#mw-content-text' ), token ? token.username : null );
	};

	Panel.prototype.load = function () {
		var self = this;
		call( 'GET', programPath(), readToken() ).then( function ( data ) {
			self.summary = data;
			self.render();
		}, function ( error ) {
			if ( DROP_TOKEN[ error.code ] && readToken() ) {
				dropToken();
				self.load();
				return;
			}
			self.render();
			self.$state.find( '.programs-bot-panel-loading' ).remove();
			self.say( errorText( error ), 'error', error.code );
		} );
	};

	Panel.prototype.locallyRefused = function ( action ) {
		var s = this.summary;
		if ( action !== 'join' ) {
			return null;
		}
		if ( s && s.ended ) {
			return { code: 'program-ended' };
		}
		if ( ( s ? s.registration : this.registration ) !== 'open' ) {
			return { code: 'registration-closed' };
		}
		return null;
	};

	Panel.prototype.act = function ( action ) {
		var self = this;
		var refused = this.locallyRefused( action );
		var token;
		if ( this.busy ) {
			return;
		}
		if ( refused ) {
			this.say( errorText( refused ), 'error', refused.code );
			return;
		}
		token = readToken();
		if ( token ) {
			this.send( action, token );
			return;
		}
		this.setBusy( true );
		this.say( msg( 'programs-bot-gadget-signing-in' ), 'notice' );
		signIn().then( function ( data ) {
			self.setBusy( false );
			self.render();
			self.send( action, data );
		}, function ( error ) {
			self.setBusy( false );
			self.fail( error );
		} );
	};

	Panel.prototype.send = function ( action, token ) {
		var self = this;
		this.setBusy( true );
		this.say( msg( 'programs-bot-gadget-working' ), 'notice' );
		call( 'POST', programPath() + '/' + action, token ).then( function ( data ) {
			self.setBusy( false );
			if ( action === 'refresh' ) {
				self.say( msg( 'programs-bot-gadget-refresh-queued' ), 'success' );
				return;
			}
			if ( data.state === 'applied' || data.state === 'on-page' ) {
				if ( action === 'join' && data.already ) {
					self.say( msg( 'programs-bot-gadget-already-joined' ), 'success' );
					self.load();
					return;
				}
				showChange( action, token.username, PAGE_TRIES );
				return;
			}
			self.say( msg( ACTION_MESSAGES[ action ].recorded ), 'success' );
			self.summary = $.extend( {}, self.summary, { joined: action === 'join', join_state: 'recorded' } );
			self.render();
			self.poll( action, token, Date.now() );
		}, function ( error ) {
			self.setBusy( false );
			self.fail( error );
		} );
	};

	// Asks the API every few seconds whether the bot has written the join (or leave).
	Panel.prototype.poll = function ( action, token, started ) {
		var self = this;
		clearTimeout( this.pollTimer );
		this.pollTimer = setTimeout( function () {
			if ( currentPanel !== self ) {
				return;
			}
			call( 'GET', programPath() + '/join', token ).then( function ( data ) {
				var mine = data.action === action;
				if ( ( mine && data.state === 'applied' ) ||
					( action === 'join' && data.state === 'on-page' ) ) {
					showChange( action, token.username, PAGE_TRIES );
					return;
				}
				if ( mine && data.state === 'failed' ) {
					self.say( msg( ACTION_MESSAGES[ action ].failed, data.reason || '' ), 'error', 'failed' );
					self.load();
					return;
				}
				if ( action === 'join' && data.state === 'recorded' && data.reason ) {
					self.say( msg( 'programs-bot-gadget-join-waiting', data.reason ), 'notice' );
				}
				if ( Date.now() - started > POLL_LIMIT_MS ) {
					self.say( msg( 'programs-bot-gadget-still-waiting' ), 'notice' );
					return;
				}
				self.poll( action, token, started );
			}, function ( error ) {
				// Passing trouble: keep asking. Anything else ends the wait.
				if ( error.code === 'network' || error.code === 'wiki-unavailable' ||
					error.code === 'store-unavailable' || error.code === 'rate-limited' ) {
					self.poll( action, token, started );
					return;
				}
				self.fail( error );
			} );
		}, POLL_MS );
	};

	function formatDate( iso ) {
		var date = new Date( iso );
		if ( isNaN( date.getTime() ) ) {
			return String( iso );
		}
		try {
			return date.toLocaleDateString( mw.config.get( 'wgUserLanguage' ), {
				year: 'numeric',
				month: 'long',
				day: 'numeric',
				timeZone: 'UTC'
			} );
		} catch ( e ) {
			return String( iso ).slice( 0, 10 );
		}
	}

	// -- start -------------------------------------------------------------------------------

	function onContent( $content ) {
		var $box = $content.find( '.programs-bot-program' ).first();
		if ( !$box.length && $content.is( '.programs-bot-program' ) ) {
			$box = $content.first();
		}
		if ( !$box.length || $box.children( '.programs-bot-panel' ).length ) {
			return;
		}
		if ( currentPanel ) {
			clearTimeout( currentPanel.pollTimer );
		}
		currentPanel = new Panel( $box );
	}

	$( function () {
		// Load only where needed: a page without a program has nothing to do here.
		if ( !apiUrl || !$( '.programs-bot-program' ).length ) {
			return;
		}
		registerMessages();
		mw.hook( 'wikipage.content' ).add( onContent );
	} );
}() );
