"""Text of the files the harness writes into a wiki's folder: settings, router, PHP helper."""

from __future__ import annotations

from pathlib import Path

#: Extensions loaded when the MediaWiki package ships them.
EXTENSIONS = ("ParserFunctions", "Gadgets", "TemplateData", "Renameuser")
#: Upload types accepted besides MediaWiki's defaults (png, gif, jpg, jpeg, webp).
EXTRA_FILE_EXTENSIONS = ("svg", "pdf", "txt")
#: $wgObjectCaches key of the store that keeps sessions out of the snapshot (see snapshot.py).
SESSION_CACHE = "localwiki-sessions"
MARKER = "# ---- Added by harness (throw-away test wiki) ----"


def php_string(value: str) -> str:
    """Quote ``value`` as a PHP single-quoted string literal."""
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


def local_settings_addition(
    *,
    root: Path,
    url: str,
    uploads: bool,
    extensions: list[str],
) -> str:
    """Settings appended to the LocalSettings.php that install.php wrote."""
    lines = [
        "",
        MARKER,
        f"$wgCanonicalServer = {php_string(url)};",
        "$wgShowExceptionDetails = true;",
        "$wgShowDBErrorBacktrace = true;",
        f"$wgDebugLogGroups['exception'] = {php_string(str(root / 'logs' / 'exception.log'))};",
        f"$wgDebugLogGroups['error'] = {php_string(str(root / 'logs' / 'error.log'))};",
        f"$wgTmpDirectory = {php_string(str(root / 'tmp'))};",
        "$wgEnableEmail = false;",
        "$wgEmailAuthentication = false;",
        *(f"wfLoadExtension( {php_string(name)} );" for name in extensions),
        "$wgGroupPermissions['bot']['apihighlimits'] = true;",
        # Tests create accounts, log in and write in quick bursts from one IP.
        "$wgRateLimits = [];",
        "$wgAccountCreationThrottle = [ [ 'count' => 0, 'seconds' => 86400 ] ];",
        "$wgPasswordAttemptThrottle = false;",
        # The installer turns ImageMagick on, but the harness does not install it.
        "$wgUseImageMagick = false;",
        f"$wgEnableUploads = {'true' if uploads else 'false'};",
        f"$wgUploadDirectory = {php_string(str(root / 'images'))};",
        # router.php maps /images/ to this wiki's own folder (Debian's /images is shared).
        "$wgUploadPath = '/images';",
        "$wgFileExtensions = array_values( array_unique( array_merge( $wgFileExtensions, [ "
        + ", ".join(php_string(e) for e in EXTRA_FILE_EXTENSIONS)
        + " ] ) ) );",
        # Jobs run at the end of web requests, and the built-in server only ends a response
        # when the script ends, so a client sees a request's jobs done; runJobs.php remains
        # the way to drain the queue (LocalWiki.run_jobs).
        "$wgJobRunRate = 1;",
        "$wgRunJobsAsync = false;",
        # Sessions live in their own SQLite file outside data/, so LocalWiki.reset() (which
        # restores data/) leaves logins valid; parser and message caches stay in data/ and
        # are restored together with the pages they were made from.
        f"$wgObjectCaches[{php_string(SESSION_CACHE)}] = [",
        "\t'class' => SqlBagOStuff::class,",
        "\t'loggroup' => 'SQLBagOStuff',",
        "\t'server' => [",
        "\t\t'type' => 'sqlite',",
        "\t\t'dbname' => 'sessions',",
        "\t\t'tablePrefix' => '',",
        "\t\t'variables' => [ 'synchronous' => 'NORMAL' ],",
        f"\t\t'dbDirectory' => {php_string(str(root / 'sessions'))},",
        "\t\t'trxMode' => 'IMMEDIATE',",
        "\t\t'flags' => 0,",
        "\t],",
        "];",
        f"$wgSessionCacheType = {php_string(SESSION_CACHE)};",
        "",
    ]
    return "\n".join(lines)


def router_script(upload_dir: Path) -> str:
    """A ``php -S`` router serving /images/ from ``upload_dir`` and the rest as usual."""
    return f"""<?php
// Written by harness. php -S runs this before every request: /images/ is this
// wiki's own upload folder (the Debian tree's images/ is shared by all wikis).
$uploadDir = {php_string(str(upload_dir))};
$path = rawurldecode( parse_url( $_SERVER['REQUEST_URI'], PHP_URL_PATH ) ?? '/' );
if ( strpos( $path, '/images/' ) === 0 ) {{
\t$file = realpath( $uploadDir . substr( $path, strlen( '/images' ) ) );
\tif ( $file === false || strpos( $file, $uploadDir . '/' ) !== 0 || !is_file( $file ) ) {{
\t\thttp_response_code( 404 );
\t\treturn true;
\t}}
\t$types = [ 'png' => 'image/png', 'gif' => 'image/gif', 'jpg' => 'image/jpeg',
\t\t'jpeg' => 'image/jpeg', 'webp' => 'image/webp', 'svg' => 'image/svg+xml',
\t\t'pdf' => 'application/pdf', 'txt' => 'text/plain' ];
\t$ext = strtolower( pathinfo( $file, PATHINFO_EXTENSION ) );
\theader( 'Content-Type: ' . ( $types[$ext] ?? 'application/octet-stream' ) );
\theader( 'Content-Length: ' . filesize( $file ) );
\treadfile( $file );
\treturn true;
}}
return false;
"""


#: A maintenance script creating many accounts in one PHP process, as createAndPromote.php
#: does for one (each run of that costs a full MediaWiki start-up, about 0.3 s).
CREATE_USERS_PHP = """<?php
// Written by harness. Reads [{"name":..,"password":..,"groups":[..]}] as JSON on stdin.
require_once getenv( 'MW_INSTALL_PATH' ) . '/maintenance/Maintenance.php';

use MediaWiki\\Auth\\AuthManager;
use MediaWiki\\MediaWikiServices;

class LocalWikiCreateUsers extends Maintenance {
\tpublic function execute() {
\t\t$specs = json_decode( stream_get_contents( STDIN ), true );
\t\tif ( !is_array( $specs ) ) {
\t\t\t$this->fatalError( 'expected a JSON list on stdin' );
\t\t}
\t\t$services = MediaWikiServices::getInstance();
\t\tforeach ( $specs as $spec ) {
\t\t\t$user = $services->getUserFactory()->newFromName( $spec['name'] );
\t\t\tif ( !is_object( $user ) ) {
\t\t\t\t$this->fatalError( "invalid username: {$spec['name']}" );
\t\t\t}
\t\t\tif ( $user->idForName() !== 0 ) {
\t\t\t\t$this->fatalError( "account exists: {$spec['name']}" );
\t\t\t}
\t\t\t$status = $services->getAuthManager()->autoCreateUser(
\t\t\t\t$user, AuthManager::AUTOCREATE_SOURCE_MAINT, false );
\t\t\tif ( !$status->isGood() ) {
\t\t\t\t$this->fatalError( $status->getMessage( false, false, 'en' )->text() );
\t\t\t}
\t\t\t$status = $user->changeAuthenticationData( [
\t\t\t\t'username' => $user->getName(),
\t\t\t\t'password' => $spec['password'],
\t\t\t\t'retype' => $spec['password'],
\t\t\t] );
\t\t\tif ( !$status->isGood() ) {
\t\t\t\t$this->fatalError( $status->getMessage( false, false, 'en' )->text() );
\t\t\t}
\t\t\t$services->getUserGroupManager()->addUserToMultipleGroups( $user, $spec['groups'] );
\t\t\tSiteStatsUpdate::factory( [ 'users' => 1 ] )->doUpdate();
\t\t\t$this->output( "created\\t{$user->getId()}\\t{$user->getName()}\\n" );
\t\t}
\t}
}

$maintClass = LocalWikiCreateUsers::class;
require_once RUN_MAINTENANCE_IF_MAIN;
"""
