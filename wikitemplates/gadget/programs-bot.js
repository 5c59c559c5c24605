var programsBotConfig = /*CONFIG*/{}/*END*/;
// programs-bot gadget: the Join button on program pages (MediaWiki 1.39 and later).
//
// Source: wikitemplates/gadget/programs-bot.js in the programs-bot repository. Do not edit
// the copy on the wiki: `programs-bot deploy` overwrites it (see bot/core/gadget_pages.py).
//
// Configuration contract. The first line holds the CONFIG placeholder, an empty object
// between the comments CONFIG and END. The deploy step (bot/core/gadget_pages.py) replaces
// that object with a JSON object, escaped so that it can neither end the script nor be
// changed by the wiki's pre-save transform:
//   mode       'join-api': joins go through the Join API (OAuth sign-in in a popup, the bot
//              writes the row); 'wiki-edit': the gadget edits the program page itself, as
//              the logged-in user, through the wiki's own API
//   apiUrl     (join-api) the Join API's base URL, without a trailing slash
//   apiOrigin  (join-api) that URL's origin (scheme://host[:port]): sign-in messages from
//              the popup are accepted from this origin only
//   pollSeconds (join-api, optional) seconds between two "has the bot written my join?"
//              checks
//   lang       the wiki's content language; messages[lang] holds every message
//   messages   { languageCode: { messageKey: text } } from i18n/gadget/*.json; the gadget
//              picks each message from the user's language fallback chain, then lang
//   formats    (wiki-edit) the template and parameter names of each language, English
//              first: [ { lang, namespace, names: { canonical: local },
//              params: { template: { canonical: local } }, values: { canonical: local } } ]
//   knownParams (wiki-edit) { template: [ English parameter names ] }
// Without a mode (the placeholder left empty) the gadget does nothing.
//
// The wiki-edit mode writes rows exactly as the bot does (bot/core/rows.py): the same
// template call in the page's language, the name made inert by the same rules
// (bot/core/wikitext.py inert_text), at the end of the participants table. It reads the
// page as MediaWiki's preprocessor does (action=parse, prop=parsetree). Its pure functions
// are also published as mw.libs.programsBot for other scripts and for the tests.
//
// ES5 only: MediaWiki 1.39 validates gadget scripts as ECMAScript 5.
( function () {
	'use strict';

	var config = programsBotConfig || {};
	var JOIN_API = 'join-api';
	var WIKI_EDIT = 'wiki-edit';
	var mode = config.mode || ( config.apiUrl ? JOIN_API : null );
	var apiUrl = String( config.apiUrl || '' ).replace( /\/+$/, '' );
	var apiOrigin = String( config.apiOrigin || '' );
	var STORAGE_KEY = 'programs-bot-token:' + apiOrigin;
	var POLL_MS = Math.max( 1, Number( config.pollSeconds ) || 3 ) * 1000;
	var POLL_LIMIT_MS = 10 * 60 * 1000;
	var PAGE_TRIES = 4;
	// Saves of one join or leave in the wiki-edit mode, when others edit the page meanwhile.
	var SAVE_TRIES = 3;
	// The API's error codes that mean: this sign-in is no good, forget it.
	var DROP_TOKEN = { 'missing-token': true, 'invalid-token': true, 'wrong-wiki': true };
	// Errors the gadget finds itself, and their messages.
	var LOCAL_ERRORS = {
		'popup-blocked': 'programs-bot-gadget-popup-blocked',
		'popup-closed': 'programs-bot-gadget-popup-closed',
		'login-needed': 'programs-bot-gadget-login-needed'
	};
	// The wiki's own error codes (action=parse, action=edit) and the gadget's codes for them;
	// any other refusal of an edit is 'cannot-edit', with the wiki's explanation.
	var WIKI_ERRORS = {
		http: 'wiki-unreachable',
		blocked: 'user-blocked',
		autoblocked: 'user-blocked',
		editconflict: 'edit-conflict',
		assertuserfailed: 'logged-out',
		assertnameduserfailed: 'logged-out',
		notloggedin: 'logged-out',
		missingtitle: 'not-a-program',
		notwikitext: 'not-a-program',
		pagecannotexist: 'not-a-program'
	};
	var ACTION_MESSAGES = {
		join: {
			recorded: 'programs-bot-gadget-join-recorded',
			applied: 'programs-bot-gadget-join-applied',
			failed: 'programs-bot-gadget-join-failed',
			summary: 'programs-bot-gadget-summary-join'
		},
		leave: {
			recorded: 'programs-bot-gadget-leave-recorded',
			applied: 'programs-bot-gadget-leave-applied',
			failed: 'programs-bot-gadget-leave-failed',
			summary: 'programs-bot-gadget-summary-leave'
		}
	};
	// The canonical (English) names of the templates the wiki-edit mode reads and writes.
	var DETAILS = 'Program details';
	var TABLE_START = 'Participants table';
	var ROW = 'Participant table row';
	var TABLE_END = 'End of participants table';

	var memoryToken = null; // when sessionStorage is not available
	var signInInProgress = null;
	var currentPanel = null;
	// A note to show once the page's content has been replaced (and the panel rebuilt).
	var flash = null;
	// The buttons' classes: Codex where the wiki has it, else MediaWiki UI (1.39).
	var buttonClasses = null;

	function has( object, key ) {
		return Object.prototype.hasOwnProperty.call( object, key );
	}

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
					if ( has( lang, key ) ) {
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

	// A message in the wiki's content language (edit summaries), English where untranslated.
	function contentText( key ) {
		var own = ( config.messages || {} )[ config.lang ] || {};
		var english = ( config.messages || {} ).en || {};
		return String( has( own, key ) ? own[ key ] : ( english[ key ] || key ) );
	}

	// Every translation of a message the configuration carries (to recognise summaries).
	function allTexts( key ) {
		var all = config.messages || {};
		var texts = {};
		var lang;
		for ( lang in all ) {
			if ( has( all, lang ) && all[ lang ] && has( all[ lang ], key ) ) {
				texts[ all[ lang ][ key ] ] = true;
			}
		}
		return texts;
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
		if ( error.code === 'cannot-edit' ) {
			return msg( key, error.message || error.code );
		}
		if ( mw.messages.exists( key ) ) {
			return msg( key );
		}
		return msg( 'programs-bot-gadget-error-unknown', error.code, error.message || '' );
	}

	// -- names and values as the bot reads and writes them (bot/core/titles.py, wikitext.py)

	// What Python's str.split() and str.strip() take for white space.
	var PY_SPACE = '\\t\\n\\x0b\\x0c\\r\\x1c-\\x1f \\x85\\xa0\\u1680\\u2000-\\u200a' +
		'\\u2028\\u2029\\u202f\\u205f\\u3000';
	var SPACE_RUNS = new RegExp( '[' + PY_SPACE + ']+', 'g' );
	var EDGE_SPACES = new RegExp( '^[' + PY_SPACE + ']+|[' + PY_SPACE + ']+$', 'g' );
	var FIRST_CHAR = /^(?:[\ud800-\udbff][\udc00-\udfff]|[\s\S])/;
	// MediaWiki's character references, as bot/core/wikitext.py _CHAR_REF.
	var CHAR_REF = /&(?:([A-Za-z0-9\x80-\uffff]+);|#([0-9]+);|#[xX]([0-9A-Fa-f]+);)/g;
	var CHAR_REF_HERE = /^&(?:[A-Za-z0-9\x80-\uffff]+;|#[0-9]+;|#[xX][0-9A-Fa-f]+;)/;
	var NOWIKI = /<nowiki\s*>([\s\S]*?)<\/nowiki\s*>|<nowiki\s*\/>/gi;
	var ENTITY_ALIASES = { '\u05e8\u05dc\u05de': 'rlm', '\u0631\u0644\u0645': 'rlm' };
	// Characters escaped wherever they stand, in runs, and at the start (inert_text).
	var ALWAYS_ESCAPED = '="{}|[]<>';
	var RUN_ESCAPED = { '\'': 2, '~': 3, _: 2 };
	var LEADING_ESCAPED = '*#:;-!';
	var MOMENT = /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2}))?)?\s*(?:Z|UTC|\+00:00)?$/i;

	function pyStrip( text ) {
		return String( text ).replace( EDGE_SPACES, '' );
	}

	function nfc( text ) {
		return text.normalize ? text.normalize( 'NFC' ) : text;
	}

	// bot/core/titles.py normalize_title: how MediaWiki compares user names and titles.
	function normalizeTitle( name ) {
		var first;
		name = nfc( String( name || '' ) ).replace( /[\u200e\u200f\u202a-\u202e]/g, '' );
		name = pyStrip( name.replace( /[_\u180e]/g, ' ' ).replace( SPACE_RUNS, ' ' ) );
		first = ( FIRST_CHAR.exec( name ) || [ '' ] )[ 0 ];
		return nfc( first.toUpperCase() + name.slice( first.length ) );
	}

	function fromCodePoint( code ) {
		if ( code < 0x10000 ) {
			return String.fromCharCode( code );
		}
		code -= 0x10000;
		return String.fromCharCode( 0xd800 + ( code >> 10 ), 0xdc00 + ( code & 0x3ff ) );
	}

	function validCodePoint( code ) {
		return code === 0x09 || code === 0x0a || ( code >= 0x20 && code <= 0x7e ) ||
			( code >= 0xa0 && code <= 0xd7ff ) || ( code >= 0xe000 && code <= 0xfffd ) ||
			( code >= 0x10000 && code <= 0x10ffff );
	}

	// An HTML5 named reference with its semicolon, as the browser's own table decodes it;
	// null for a name that is none (the browser would also take a known prefix, "&notit;").
	function namedReference( name ) {
		var area = document.createElement( 'textarea' );
		var written = '&' + name + ';';
		var text;
		area.innerHTML = written;
		text = area.value;
		if ( text === written || ( name !== 'semi' && text.charAt( text.length - 1 ) === ';' ) ) {
			return null;
		}
		return text;
	}

	function decodeReference( match, name, decimal, hexadecimal ) {
		var digits, code, named;
		if ( name !== undefined && name !== '' ) {
			named = namedReference( has( ENTITY_ALIASES, name ) ? ENTITY_ALIASES[ name ] : name );
			return named === null ? match : named;
		}
		digits = decimal !== undefined && decimal !== '' ? decimal : hexadecimal;
		code = digits.replace( /^0+/, '' ).length <= 8 ?
			parseInt( digits, decimal !== undefined && decimal !== '' ? 10 : 16 ) : -1;
		return validCodePoint( code ) ? fromCodePoint( code ) : '\ufffd';
	}

	// bot/core/wikitext.py plain_text: what a value shows (<nowiki> unwrapped, references
	// decoded as MediaWiki decodes them).
	function plainText( value ) {
		value = String( value );
		if ( value.indexOf( '<' ) >= 0 ) {
			value = value.replace( NOWIKI, function ( match, inner ) {
				return inner || '';
			} );
		}
		return value.indexOf( '&' ) >= 0 ? value.replace( CHAR_REF, decodeReference ) : value;
	}

	// bot/core/wikitext.py read_name: a user name as written in a row.
	function readName( value ) {
		return normalizeTitle( plainText( value ) );
	}

	function runLength( value, index ) {
		var c = value.charAt( index );
		var start = index;
		var end = index;
		while ( start > 0 && value.charAt( start - 1 ) === c ) {
			start--;
		}
		while ( end < value.length && value.charAt( end ) === c ) {
			end++;
		}
		return end - start;
	}

	// bot/core/wikitext.py inert_text: wikitext that shows the value literally.
	function inertText( value ) {
		var out = [];
		var i, c;
		value = String( value );
		for ( i = 0; i < value.length; i++ ) {
			c = value.charAt( i );
			if ( ALWAYS_ESCAPED.indexOf( c ) >= 0 ||
				( has( RUN_ESCAPED, c ) && runLength( value, i ) >= RUN_ESCAPED[ c ] ) ||
				( i === 0 && LEADING_ESCAPED.indexOf( c ) >= 0 ) ) {
				out.push( '&#' + c.charCodeAt( 0 ) + ';' );
			} else if ( c === '&' && CHAR_REF_HERE.test( value.slice( i ) ) ) {
				out.push( '&amp;' );
			} else {
				out.push( c );
			}
		}
		return out.join( '' );
	}

	// bot/core/dates.py parse_moment: milliseconds since 1970 (UTC), or null.
	function parseMoment( value, endOfDay ) {
		var m = MOMENT.exec( pyStrip( value || '' ) );
		var parts, time;
		if ( !m ) {
			return null;
		}
		parts = [ m[ 1 ], m[ 2 ], m[ 3 ], m[ 4 ], m[ 5 ], m[ 6 ] ];
		if ( m[ 4 ] === undefined || m[ 4 ] === '' ) {
			parts[ 3 ] = endOfDay ? 23 : 0;
			parts[ 4 ] = endOfDay ? 59 : 0;
			parts[ 5 ] = endOfDay ? 59 : 0;
		}
		parts = $.map( parts, function ( part ) {
			return Number( part || 0 );
		} );
		if ( parts[ 0 ] < 1 || parts[ 3 ] > 23 || parts[ 4 ] > 59 || parts[ 5 ] > 59 ) {
			return null;
		}
		time = new Date( 0 );
		time.setUTCFullYear( parts[ 0 ], parts[ 1 ] - 1, parts[ 2 ] );
		time.setUTCHours( parts[ 3 ], parts[ 4 ], parts[ 5 ], 0 );
		// Date rolls 2026-02-30 over into March; strptime refuses it.
		if ( time.getUTCFullYear() !== parts[ 0 ] || time.getUTCMonth() !== parts[ 1 ] - 1 ||
			time.getUTCDate() !== parts[ 2 ] ) {
			return null;
		}
		return time.getTime();
	}

	// -- the page format (bot/core/pageformat.py) ----------------------------------------------

	function Format( data, known ) {
		var self = this;
		this.lang = String( data.lang || 'en' );
		this.namespace = String( data.namespace || 'Template' );
		this.names = data.names || {};
		this.params = data.params || {};
		this.values = data.values || {};
		this.known = known || {};
		this.keys = {};
		$.each( [ DETAILS, TABLE_START, ROW, TABLE_END ], function ( i, key ) {
			self.keys[ normalizeTitle( key ) ] = key;
		} );
		$.each( this.names, function ( key, local ) {
			self.keys[ normalizeTitle( local ) ] = key;
		} );
	}

	Format.prototype.name = function ( key ) {
		return has( this.names, key ) ? String( this.names[ key ] ) : key;
	};

	Format.prototype.param = function ( key, name ) {
		var local = this.params[ key ] || {};
		return has( local, name ) ? String( local[ name ] ) : name;
	};

	// PageFormat.template_key: the canonical name of a template as used on a page.
	Format.prototype.templateKey = function ( raw ) {
		var name = normalizeTitle( raw );
		var colon = name.indexOf( ':' );
		var prefix;
		if ( colon >= 0 ) {
			prefix = pyStrip( name.slice( 0, colon ) ).toLowerCase();
			if ( prefix === 'template' || prefix === this.namespace.toLowerCase() ) {
				name = normalizeTitle( name.slice( colon + 1 ) );
			}
		}
		return has( this.keys, name ) ? this.keys[ name ] : name;
	};

	// PageFormat.canonical_param: the canonical name of a parameter, or null.
	Format.prototype.canonicalParam = function ( key, raw ) {
		var local = this.params[ key ] || {};
		var name;
		raw = pyStrip( raw );
		for ( name in local ) {
			if ( has( local, name ) && raw === local[ name ] ) {
				return name;
			}
		}
		return $.inArray( raw, this.known[ key ] || [] ) >= 0 ? raw : null;
	};

	// PageFormat.canonical_value: "geschlossen" -> "closed".
	Format.prototype.canonicalValue = function ( written ) {
		var lowered = pyStrip( written ).toLowerCase();
		var name;
		for ( name in this.values ) {
			if ( has( this.values, name ) && lowered === String( this.values[ name ] ).toLowerCase() ) {
				return name;
			}
		}
		return lowered;
	};

	function formats() {
		return $.map( config.formats || [ {} ], function ( data ) {
			return new Format( data, config.knownParams );
		} );
	}

	// -- the page as MediaWiki's preprocessor reads it ---------------------------------------

	function unreadable( why ) {
		var error = new Error( why );
		error.code = 'page-unreadable';
		return error;
	}

	function children( node, name ) {
		var found = [];
		var child;
		for ( child = node.firstChild; child; child = child.nextSibling ) {
			if ( child.nodeType === 1 && ( !name || child.nodeName === name ) ) {
				found.push( child );
			}
		}
		return found;
	}

	// The wikitext a node of the parse tree was read from (the tree drops only the braces,
	// the pipes and the brackets of extension tags: put them back).
	function source( node, skipComments ) {
		var out = [];
		var child, name, attr, inner, close;
		if ( node.nodeType === 3 || node.nodeType === 4 ) {
			return node.nodeValue;
		}
		if ( node.nodeType !== 1 ) {
			throw unreadable( 'unexpected node type ' + node.nodeType );
		}
		switch ( node.nodeName ) {
			case 'template':
			case 'tplarg':
				$.each( children( node ), function ( i, part ) {
					out.push( ( i ? '|' : '' ) + source( part ) );
				} );
				return node.nodeName === 'template' ?
					'{{' + out.join( '' ) + '}}' : '{{{' + out.join( '' ) + '}}}';
			case 'ext':
				name = children( node, 'name' )[ 0 ];
				attr = children( node, 'attr' )[ 0 ];
				inner = children( node, 'inner' )[ 0 ];
				close = children( node, 'close' )[ 0 ];
				return '<' + ( name ? source( name ) : '' ) + ( attr ? source( attr ) : '' ) +
					( inner ? '>' + source( inner ) + ( close ? source( close ) : '' ) : '/>' );
			case 'root':
			case 'title':
			case 'part':
			case 'name':
			case 'equals':
			case 'value':
			case 'comment':
			case 'ignore':
			case 'h':
			case 'attr':
			case 'inner':
			case 'close':
				for ( child = node.firstChild; child; child = child.nextSibling ) {
					if ( !( skipComments && child.nodeName === 'comment' ) ) {
						out.push( source( child ) );
					}
				}
				return out.join( '' );
			default:
				throw unreadable( 'unknown element ' + node.nodeName );
		}
	}

	// Reads a template node: its title as written and its named parameters (positional ones
	// have no name here, as in the bot). Values without their comments, stripped.
	function readTemplate( node ) {
		var parts = children( node, 'part' );
		return {
			title: source( children( node, 'title' )[ 0 ] ),
			parts: $.map( parts, function ( part ) {
				var name = children( part, 'name' )[ 0 ];
				var value = children( part, 'value' )[ 0 ];
				if ( !name || name.getAttribute( 'index' ) !== null ) {
					return null;
				}
				return { name: source( name ), value: value ? pyStrip( source( value, true ) ) : '' };
			} )
		};
	}

	// bot/core/wikitext.py template_values: values by canonical name, the last one wins.
	function templateValues( template, key, fmt ) {
		var values = {};
		$.each( template.parts, function ( i, part ) {
			var name = fmt.canonicalParam( key, part.name );
			if ( name !== null ) {
				values[ name ] = part.value;
			}
		} );
		return values;
	}

	// bot/core/wikitext.py detect_format: the language of the page, told by the name its
	// top-level templates use for {{Program details}}.
	function detectFormat( templates, all ) {
		var names = {};
		var i, local;
		$.each( templates, function ( j, template ) {
			var name = normalizeTitle( template.title );
			var colon = name.indexOf( ':' );
			names[ colon >= 0 ? normalizeTitle( name.slice( colon + 1 ) ) : name ] = true;
		} );
		for ( i = 1; i < all.length; i++ ) {
			local = all[ i ].name( DETAILS );
			if ( local !== DETAILS && has( names, normalizeTitle( local ) ) ) {
				return all[ i ];
			}
		}
		return all[ 0 ];
	}

	// The page read from its wikitext and MediaWiki's parse tree of it (action=parse,
	// prop=parsetree): the top-level nodes with their offsets, the templates among them.
	// Throws (code page-unreadable) unless the tree gives back the wikitext exactly.
	function readPage( text, xml ) {
		var root, doc, nodes, offset, page, all;
		try {
			doc = $.parseXML( xml );
		} catch ( e ) {
			throw unreadable( 'the parse tree is not XML' );
		}
		root = doc && doc.documentElement;
		if ( !root || root.nodeName !== 'root' ) {
			throw unreadable( 'the parse tree has no root' );
		}
		nodes = [];
		offset = 0;
		$.each( root.childNodes, function ( i, node ) {
			var written = source( node );
			nodes.push( { node: node, start: offset, end: offset + written.length, text: written } );
			offset += written.length;
		} );
		if ( $.map( nodes, function ( n ) {
			return n.text;
		} ).join( '' ) !== text ) {
			throw unreadable( 'the parse tree does not give back the wikitext' );
		}
		page = { text: text, nodes: nodes, templates: [] };
		$.each( nodes, function ( i, n ) {
			if ( n.node.nodeName === 'template' ) {
				page.templates.push( $.extend( { index: i }, readTemplate( n.node ) ) );
			}
		} );
		all = formats();
		page.fmt = detectFormat( page.templates, all );
		$.each( page.templates, function ( i, template ) {
			template.key = page.fmt.templateKey( template.title );
		} );
		return page;
	}

	// Where the part of the page that MediaWiki shows ends: a comment or an <includeonly>
	// never closed hides the rest (bot/core/wikitext.py parse_shown).
	function shownEnd( page ) {
		var i, n;
		for ( i = 0; i < page.nodes.length; i++ ) {
			n = page.nodes[ i ];
			if ( ( n.node.nodeName === 'comment' && n.text.indexOf( '-->' ) < 0 ) ||
				( n.node.nodeName === 'ignore' && /^<includeonly/i.test( n.text ) &&
					!/<\/includeonly\s*>$/i.test( n.text ) ) ) {
				return n.start;
			}
		}
		return page.text.length;
	}

	function firstOf( page, key, after ) {
		var i;
		for ( i = 0; i < page.templates.length; i++ ) {
			if ( page.templates[ i ].key === key &&
				( after === null || page.templates[ i ].index > after ) ) {
				return page.templates[ i ];
			}
		}
		return null;
	}

	function rowsOf( page ) {
		return $.map( page.templates, function ( template ) {
			if ( template.key !== ROW ) {
				return null;
			}
			return {
				index: template.index,
				name: readName( templateValues( template, ROW, page.fmt ).username || '' )
			};
		} );
	}

	// The program's facts from its {{Program details}} (bot/core/program_page.py): null
	// when the page has none.
	function programFacts( page ) {
		var details = firstOf( page, DETAILS, null );
		var values, start, end, registration;
		if ( !details ) {
			return null;
		}
		values = templateValues( details, DETAILS, page.fmt );
		registration = values.registration ? page.fmt.canonicalValue( values.registration ) : 'open';
		start = values.start ? parseMoment( values.start, false ) : null;
		end = values.end ? parseMoment( values.end, true ) : null;
		return {
			registration: registration === 'closed' ? 'closed' : 'open',
			// The window counts only when both dates are good and in order.
			end: start !== null && end !== null && end >= start ? end : null
		};
	}

	function lists( page, username ) {
		var wanted = normalizeTitle( username );
		return $.grep( rowsOf( page ), function ( row ) {
			return row.name === wanted;
		} ).length > 0;
	}

	// bot/core/rows.py row_text.
	function rowText( fmt, username, joined ) {
		return '{{' + fmt.name( ROW ) +
			'|' + fmt.param( ROW, 'username' ) + '=' + inertText( normalizeTitle( username ) ) +
			'|' + fmt.param( ROW, 'joined' ) + '=' + inertText( joined ) + '}}';
	}

	// bot/core/rows.py add_rows for one user: the new wikitext, or null when the page lists
	// the user already. At the end of the table; a page without a table gets one after its
	// details.
	function addRow( page, username, joined ) {
		var fmt = page.fmt;
		var start = firstOf( page, TABLE_START, null );
		var end = start ? firstOf( page, TABLE_END, start.index ) : null;
		var row = rowText( fmt, username, joined );
		var details, last, at, insert;
		if ( lists( page, username ) ) {
			return null;
		}
		if ( end ) {
			at = page.nodes[ end.index ].start;
			insert = row + '\n';
		} else if ( start ) {
			last = start.index;
			$.each( rowsOf( page ), function ( i, r ) {
				if ( r.index > start.index ) {
					last = r.index;
				}
			} );
			at = page.nodes[ last ].end;
			insert = '\n' + row;
		} else {
			details = firstOf( page, DETAILS, null );
			at = details ? page.nodes[ details.index ].end : shownEnd( page );
			insert = '\n\n{{' + fmt.name( TABLE_START ) + '}}\n' + row +
				'\n{{' + fmt.name( TABLE_END ) + '}}';
		}
		return page.text.slice( 0, at ) + insert + page.text.slice( at );
	}

	// bot/core/rows.py remove_rows for one user: every row with the user's name goes, with
	// the line break after it. Null when there is none.
	function removeRows( page, username ) {
		var wanted = normalizeTitle( username );
		var text = page.text;
		var found = $.grep( rowsOf( page ), function ( row ) {
			return row.name === wanted;
		} );
		var i, n, next, end;
		if ( !found.length ) {
			return null;
		}
		for ( i = found.length - 1; i >= 0; i-- ) {
			n = page.nodes[ found[ i ].index ];
			next = page.nodes[ found[ i ].index + 1 ];
			end = n.end;
			if ( next && next.node.nodeType === 3 && next.text.charAt( 0 ) === '\n' ) {
				end++;
			}
			text = text.slice( 0, n.start ) + text.slice( end );
		}
		return text;
	}

	mw.libs.programsBot = {
		normalizeTitle: normalizeTitle,
		plainText: plainText,
		readName: readName,
		inertText: inertText,
		parseMoment: parseMoment,
		// (wikitext, parse tree XML, ...) -> new wikitext or null; throws when unreadable.
		addRow: function ( text, xml, username, joined ) {
			return addRow( readPage( text, xml ), username, joined );
		},
		removeRows: function ( text, xml, username ) {
			return removeRows( readPage( text, xml ), username );
		},
		listed: function ( text, xml ) {
			return $.map( rowsOf( readPage( text, xml ) ), function ( row ) {
				return row.name;
			} );
		}
	};

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
	function call( method, path, token, body ) {
		var headers = {};
		var request = {
			url: apiUrl + path,
			type: method,
			headers: headers,
			dataType: 'json',
			timeout: 30000
		};
		if ( token ) {
			headers.Authorization = 'Bearer ' + token.token;
		}
		if ( body ) {
			request.contentType = 'application/json';
			request.data = JSON.stringify( body );
		}
		return $.ajax( request ).then( function ( data ) {
			return data;
		}, function ( xhr ) {
			return $.Deferred().reject( toError( xhr ) ).promise();
		} );
	}

	// -- the wiki's own API (the wiki-edit mode) ---------------------------------------------

	function wikiApi() {
		return new mw.Api( { parameters: { formatversion: 2, errorformat: 'plaintext' } } );
	}

	// mw.Api's rejection (code, answer) as the gadget's { code, message }.
	function wikiError( code, answer, refusal ) {
		var text = '';
		if ( code && typeof code === 'object' && code.code ) {
			return code; // already the gadget's
		}
		if ( answer && answer.errors && answer.errors[ 0 ] ) {
			text = String( answer.errors[ 0 ].text || answer.errors[ 0 ].html || '' );
		} else if ( answer && answer.error ) {
			text = String( answer.error.info || '' );
		}
		if ( has( WIKI_ERRORS, code ) ) {
			return { code: WIKI_ERRORS[ code ], message: text };
		}
		return { code: refusal ? 'cannot-edit' : String( code || 'unknown' ), message: text || String( code ) };
	}

	function userName() {
		return mw.config.get( 'wgUserName' ) || null;
	}

	// The user's newest join or leave made with this gadget on this page ('join', 'leave'
	// or null): their own edits with the gadget's summary, in any of its languages.
	function lastOwnAction( username ) {
		var joins = allTexts( ACTION_MESSAGES.join.summary );
		var leaves = allTexts( ACTION_MESSAGES.leave.summary );
		return wikiApi().get( {
			action: 'query',
			prop: 'revisions',
			titles: mw.config.get( 'wgPageName' ),
			rvuser: username,
			rvprop: 'ids|comment',
			rvlimit: 50
		} ).then( function ( data ) {
			var pages = data.query && data.query.pages;
			var revisions = ( pages && pages[ 0 ] && pages[ 0 ].revisions ) || [];
			var i, comment;
			for ( i = 0; i < revisions.length; i++ ) {
				comment = revisions[ i ].comment;
				if ( has( joins, comment ) ) {
					return 'join';
				}
				if ( has( leaves, comment ) ) {
					return 'leave';
				}
			}
			return null;
		}, function ( code, answer ) {
			return $.Deferred().reject( wikiError( code, answer ) ).promise();
		} );
	}

	// The page's current wikitext with its parse tree, read in one request.
	function readProgram() {
		return wikiApi().get( {
			action: 'parse',
			page: mw.config.get( 'wgPageName' ),
			prop: 'wikitext|parsetree|revid',
			curtimestamp: 1
		} ).then( function ( data ) {
			var page;
			try {
				page = readPage( String( data.parse.wikitext ), String( data.parse.parsetree ) );
			} catch ( e ) {
				return $.Deferred().reject( { code: e.code || 'page-unreadable', message: e.message } )
					.promise();
			}
			page.revid = data.parse.revid;
			page.timestamp = data.curtimestamp;
			return page;
		}, function ( code, answer ) {
			return $.Deferred().reject( wikiError( code, answer ) ).promise();
		} );
	}

	function todayUtc() {
		return new Date().toISOString().slice( 0, 10 );
	}

	// The join or leave as an edit of the page (the rules of gadget_api/api.py, whose
	// error codes it shares). Resolves with { saved: true|false }; rejects with
	// { code, message }. On an edit conflict the page is read again and the change made
	// anew on what others saved meanwhile.
	function changePage( action, username, last, tries ) {
		return readProgram().then( function ( page ) {
			var facts = programFacts( page );
			var listed, text;
			if ( !facts ) {
				return $.Deferred().reject( { code: 'not-a-program' } ).promise();
			}
			listed = lists( page, username );
			if ( action === 'join' ) {
				if ( listed ) {
					return { saved: false };
				}
				if ( last === 'join' ) {
					return $.Deferred().reject( { code: 'removed-by-organizer' } ).promise();
				}
				if ( facts.registration !== 'open' ) {
					return $.Deferred().reject( { code: 'registration-closed' } ).promise();
				}
			}
			if ( facts.end !== null && Date.now() > facts.end ) {
				return $.Deferred().reject( { code: 'program-ended' } ).promise();
			}
			if ( action === 'leave' ) {
				if ( last !== 'join' ) {
					return $.Deferred().reject( { code: 'not-joined' } ).promise();
				}
				if ( !listed ) {
					return { saved: false };
				}
			}
			text = action === 'join' ? addRow( page, username, todayUtc() ) :
				removeRows( page, username );
			return wikiApi().postWithEditToken( {
				action: 'edit',
				title: mw.config.get( 'wgPageName' ),
				text: text,
				summary: contentText( ACTION_MESSAGES[ action ].summary ),
				baserevid: page.revid,
				starttimestamp: page.timestamp,
				nocreate: 1,
				assert: 'user',
				assertuser: username,
				watchlist: 'nochange'
			} ).then( function ( data ) {
				if ( !data.edit || data.edit.result !== 'Success' ) {
					return $.Deferred().reject( {
						code: 'cannot-edit',
						message: String( ( data.edit && data.edit.info ) || '' )
					} ).promise();
				}
				return { saved: true };
			}, function ( code, answer ) {
				if ( code === 'editconflict' && tries > 1 ) {
					return changePage( action, username, last, tries - 1 );
				}
				return $.Deferred().reject( wikiError( code, answer, true ) ).promise();
			} );
		} );
	}

	// -- the page's content ------------------------------------------------------------------

	function ownRows( $root, username ) {
		var wanted = normalizeTitle( username );
		return $root.find( 'tr.programs-bot-participant' ).filter( function () {
			return normalizeTitle( this.getAttribute( 'data-username' ) ) === wanted;
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

	// After the edit: reload the content until it shows the change (the parser cache
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

	// Codex's CSS-only buttons where the wiki has them (MediaWiki 1.41 and later), else
	// MediaWiki UI's, which 1.39 has and 1.43 reports as deprecated.
	function chooseButtonStyles() {
		if ( mw.loader.getState( 'codex-styles' ) !== null ) {
			mw.loader.load( 'codex-styles' );
			return {
				base: 'cdx-button',
				progressive: 'cdx-button--action-progressive cdx-button--weight-primary',
				destructive: 'cdx-button--action-destructive'
			};
		}
		mw.loader.load( 'mediawiki.ui.button' );
		return { base: 'mw-ui-button', progressive: 'mw-ui-progressive', destructive: 'mw-ui-destructive' };
	}

	function button( label, title, kind, classes ) {
		return $( '<button>' ).attr( { type: 'button', title: title } )
			.addClass( buttonClasses.base + ( kind ? ' ' + buttonClasses[ kind ] : '' ) + ' ' + classes )
			.text( label );
	}

	function Panel( $box ) {
		var self = this;
		this.$box = $box;
		this.registration = String( $box.attr( 'data-registration' ) || 'open' );
		this.summary = null;
		this.busy = false;
		this.pollTimer = null;
		this.$state = $( '<ul>' ).addClass( 'programs-bot-panel-state' );
		this.$goals = $( '<div>' ).addClass( 'programs-bot-panel-goals' ).hide();
		this.$join = button( msg( 'programs-bot-gadget-join' ),
			msg( 'programs-bot-gadget-join-title' ), 'progressive', 'programs-bot-panel-join' );
		this.$leave = button( msg( 'programs-bot-gadget-leave' ),
			msg( 'programs-bot-gadget-leave-title' ), 'destructive', 'programs-bot-panel-leave' );
		this.$refresh = button( msg( 'programs-bot-gadget-refresh' ),
			msg( 'programs-bot-gadget-refresh-title' ), null, 'programs-bot-panel-refresh' );
		// Private joins: the Join API keeps the name off the page.
		this.$private = $( '<label>' ).addClass( 'programs-bot-panel-private' )
			.attr( 'title', msg( 'programs-bot-gadget-private-title' ) )
			.append( $( '<input>' ).attr( 'type', 'checkbox' ),
				$( '<span>' ).text( msg( 'programs-bot-gadget-private' ) ) );
		this.$message = $( '<div>' ).addClass( 'programs-bot-panel-message' )
			.attr( { role: 'status', 'aria-live': 'polite' } );
		this.$el = $( '<div>' ).addClass( 'programs-bot-panel programs-bot-panel-' + mode ).append(
			$( '<div>' ).addClass( 'programs-bot-panel-heading' )
				.text( msg( 'programs-bot-gadget-label' ) ),
			this.$state,
			this.$goals,
			$( '<div>' ).addClass( 'programs-bot-panel-buttons' )
				.append( this.$join, this.$leave, this.$refresh ),
			mode === JOIN_API ? this.$private : null,
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
		if ( error.code === 'login-needed' || error.code === 'logged-out' ) {
			this.$message.append( ' ', $( '<a>' ).addClass( 'programs-bot-panel-login' )
				.attr( 'href', mw.util.getUrl( 'Special:UserLogin',
					{ returnto: mw.config.get( 'wgPageName' ) } ) )
				.text( msg( 'programs-bot-gadget-login' ) ) );
		}
	};

	Panel.prototype.setBusy = function ( busy ) {
		this.busy = busy;
		this.$el.find( 'button' ).prop( 'disabled', busy );
		this.$el.toggleClass( 'programs-bot-panel-busy', busy );
	};

	// Who the panel speaks to: the API's sign-in, or the wiki's logged-in user.
	Panel.prototype.username = function () {
		var token;
		if ( mode === WIKI_EDIT ) {
			return userName();
		}
		token = readToken();
		return token ? token.username : null;
	};

	Panel.prototype.render = function () {
		var s = this.summary;
		var username = this.username();
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
		if ( username ) {
			line( msg( 'programs-bot-gadget-signed-in', username ), 'programs-bot-panel-user' );
			if ( joined ) {
				line( msg( s.join_state === 'on-page' ?
					'programs-bot-gadget-you-listed' :
					'programs-bot-gadget-you-joined' ), 'programs-bot-panel-joined' );
			}
		}
		if ( mode === WIKI_EDIT ) {
			line( msg( 'programs-bot-gadget-public-only' ), 'programs-bot-panel-public' );
		}
		this.renderGoals( s && s.goals );
		// Leave only for a join the Join button made; rows written by hand are the organizers'.
		this.$join.toggle( !joined );
		this.$private.toggle( !joined );
		this.$leave.toggle( joined && s.join_state !== 'on-page' );
		// Statistics updates are asked of the bot through the Join API.
		this.$refresh.toggle( mode === JOIN_API );
		highlightOwnRow( $( '#mw-content-text' ), username );
	};

	// A bar per goal, from the Join API's answer (the wiki-edit mode has none: there the
	// page's own outcomes table shows the goals). A goal the gadget cannot read is left out.
	Panel.prototype.renderGoals = function ( goals ) {
		var $list = $( '<ul>' ).addClass( 'programs-bot-panel-goals-list' );
		var i, $goal;
		for ( i = 0; Array.isArray( goals ) && i < goals.length; i++ ) {
			$goal = goalBar( goals[ i ] );
			if ( $goal ) {
				$list.append( $goal );
			}
		}
		this.$goals.empty().toggle( $list.children().length > 0 );
		if ( $list.children().length ) {
			this.$goals.append( $( '<div>' ).addClass( 'programs-bot-panel-goals-heading' )
				.text( msg( 'programs-bot-gadget-goals' ) ), $list );
		}
	};

	Panel.prototype.load = function () {
		var self = this;
		if ( mode === WIKI_EDIT ) {
			this.loadFromPage();
			return;
		}
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

	// The wiki-edit mode's state of the program: the box's data attributes and the rendered
	// participant rows; for a listed user, whether their own Join button edit added the row.
	Panel.prototype.loadFromPage = function () {
		var self = this;
		var $content = $( '#mw-content-text' );
		var username = userName();
		var start = parseMoment( this.$box.attr( 'data-start' ), false );
		var end = parseMoment( this.$box.attr( 'data-end' ), true );
		var names = {};
		var count = 0;
		var summary;
		if ( start !== null && end !== null && end < start ) {
			start = end = null;
		}
		$content.find( 'tr.programs-bot-participant' ).each( function () {
			var name = normalizeTitle( this.getAttribute( 'data-username' ) );
			if ( name && !has( names, name ) ) {
				names[ name ] = true;
				count++;
			}
		} );
		summary = {
			registration: this.registration === 'closed' ? 'closed' : 'open',
			ended: start !== null && end !== null && Date.now() > end,
			start: start !== null && end !== null ? new Date( start ).toISOString() : null,
			end: start !== null && end !== null ? new Date( end ).toISOString() : null,
			participant_count: count,
			joined: false,
			join_state: 'none'
		};
		if ( !username || !ownRows( $content, username ).length ) {
			this.summary = summary;
			this.render();
			return;
		}
		lastOwnAction( username ).then( function ( last ) {
			self.summary = $.extend( summary, {
				joined: true,
				join_state: last === 'join' ? 'applied' : 'on-page'
			} );
			self.render();
		}, function ( error ) {
			self.summary = $.extend( summary, { joined: true, join_state: 'on-page' } );
			self.render();
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
		var token, privately;
		if ( this.busy ) {
			return;
		}
		if ( refused ) {
			this.say( errorText( refused ), 'error', refused.code );
			return;
		}
		if ( mode === WIKI_EDIT ) {
			this.edit( action );
			return;
		}
		privately = action === 'join' && this.$private.find( 'input' ).prop( 'checked' );
		token = readToken();
		if ( token ) {
			this.send( action, token, privately );
			return;
		}
		this.setBusy( true );
		this.say( msg( 'programs-bot-gadget-signing-in' ), 'notice' );
		signIn().then( function ( data ) {
			self.setBusy( false );
			self.render();
			self.send( action, data, privately );
		}, function ( error ) {
			self.setBusy( false );
			self.fail( error );
		} );
	};

	// The wiki-edit mode: the logged-in user edits the page (a reader is asked to log in).
	Panel.prototype.edit = function ( action ) {
		var self = this;
		var username = userName();
		if ( !username ) {
			this.fail( { code: 'login-needed' } );
			return;
		}
		this.setBusy( true );
		this.say( msg( 'programs-bot-gadget-working' ), 'notice' );
		lastOwnAction( username ).then( function ( last ) {
			return changePage( action, username, last, SAVE_TRIES );
		} ).then( function ( result ) {
			self.setBusy( false );
			if ( result.saved ) {
				showChange( action, username, PAGE_TRIES );
				return;
			}
			self.say( msg( action === 'join' ? 'programs-bot-gadget-already-joined' :
				ACTION_MESSAGES.leave.applied ), 'success' );
			self.load();
		}, function ( error ) {
			self.setBusy( false );
			self.fail( error );
		} );
	};

	// A private join is applied without an edit: nothing to show on the page.
	Panel.prototype.joinedPrivately = function () {
		this.say( msg( 'programs-bot-gadget-join-private-applied' ), 'success' );
		this.load();
	};

	Panel.prototype.send = function ( action, token, privately ) {
		var self = this;
		this.setBusy( true );
		this.say( msg( 'programs-bot-gadget-working' ), 'notice' );
		call( 'POST', programPath() + '/' + action, token,
			privately ? { 'private': true } : null ).then( function ( data ) {
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
				if ( privately ) {
					self.joinedPrivately();
					return;
				}
				showChange( action, token.username, PAGE_TRIES );
				return;
			}
			self.say( msg( ACTION_MESSAGES[ action ].recorded ), 'success' );
			self.summary = $.extend( {}, self.summary, { joined: action === 'join', join_state: 'recorded' } );
			self.render();
			self.poll( action, token, Date.now(), privately );
		}, function ( error ) {
			self.setBusy( false );
			self.fail( error );
		} );
	};

	// Asks the API every few seconds whether the bot has written the join (or leave).
	Panel.prototype.poll = function ( action, token, started, privately ) {
		var self = this;
		clearTimeout( this.pollTimer );
		this.pollTimer = setTimeout( function () {
			if ( currentPanel !== self ) {
				return;
			}
			call( 'GET', programPath() + '/join', token ).then( function ( data ) {
				var mine = data.action === action;
				if ( mine && data.state === 'applied' && privately ) {
					self.joinedPrivately();
					return;
				}
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
				self.poll( action, token, started, privately );
			}, function ( error ) {
				// Passing trouble: keep asking. Anything else ends the wait.
				if ( error.code === 'network' || error.code === 'wiki-unavailable' ||
					error.code === 'store-unavailable' || error.code === 'rate-limited' ) {
					self.poll( action, token, started, privately );
					return;
				}
				self.fail( error );
			} );
		}, POLL_MS );
	};

	// A number in the user's language (digits and grouping).
	function formatNumber( value ) {
		try {
			return mw.language.convertNumber( value );
		} catch ( e ) {
			return String( value );
		}
	}

	// The figure's name in the user's language; a figure this gadget has no message for
	// (a newer Join API's) is shown as the API names it.
	function figureName( figure ) {
		var key = 'programs-bot-gadget-figure-' + figure.replace( /_/g, '-' );
		return mw.message( key ).exists() ? msg( key ) : figure.replace( /_/g, ' ' );
	}

	// One goal { figure, target, reached } as a list item: its name, "12 of 20 (60%)" (or
	// "not known yet") and a bar, full and green once reached; null for no usable goal.
	function goalBar( goal ) {
		var figure = goal && typeof goal.figure === 'string' ? goal.figure : '';
		var target = goal ? Number( goal.target ) : NaN;
		var known = goal && typeof goal.reached === 'number' && isFinite( goal.reached );
		var reached = known ? Math.max( 0, goal.reached ) : 0;
		var done = known && reached >= target;
		var name, $bar, classes;
		if ( !figure || !isFinite( target ) || target <= 0 ) {
			return null;
		}
		name = figureName( figure );
		classes = 'programs-bot-panel-goal' + ( done ? ' programs-bot-panel-goal-reached' : '' ) +
			( known ? '' : ' programs-bot-panel-goal-unknown' );
		$bar = $( '<div>' ).addClass( 'programs-bot-panel-goal-bar' ).attr( {
			role: 'progressbar',
			'aria-label': name,
			'aria-valuemin': 0,
			'aria-valuemax': target,
			'aria-valuenow': known ? reached : null
		} ).append( $( '<span>' ).addClass( 'programs-bot-panel-goal-fill' )
			.css( 'width', ( done ? 100 : Math.round( reached * 1000 / target ) / 10 ) + '%' ) );
		return $( '<li>' ).addClass( classes ).attr( 'data-figure', figure ).append(
			$( '<div>' ).addClass( 'programs-bot-panel-goal-head' ).append(
				$( '<span>' ).addClass( 'programs-bot-panel-goal-name' ).text( name ),
				' ',
				$( '<span>' ).addClass( 'programs-bot-panel-goal-text' ).text( known ?
					msg( 'programs-bot-gadget-goal-progress', formatNumber( reached ),
						formatNumber( target ), formatNumber( Math.floor( reached * 100 / target ) ) ) :
					msg( 'programs-bot-gadget-goal-unknown', formatNumber( target ) ) )
			),
			$bar
		);
	}

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
		if ( ( mode !== WIKI_EDIT && !( mode === JOIN_API && apiUrl ) ) ||
			!$( '.programs-bot-program' ).length ) {
			return;
		}
		registerMessages();
		buttonClasses = chooseButtonStyles();
		mw.hook( 'wikipage.content' ).add( onContent );
	} );
}() );
