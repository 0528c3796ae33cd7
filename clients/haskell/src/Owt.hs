{-# LANGUAGE AllowAmbiguousTypes #-}
{-# LANGUAGE DataKinds #-}
{-# LANGUAGE KindSignatures #-}
{-# LANGUAGE OverloadedStrings #-}
{-# LANGUAGE ScopedTypeVariables #-}
{-# LANGUAGE TypeApplications #-}

-- | A tiny client for owt: ship Python code and kwargs in one HTTP request and get
-- the result back.
--
-- > {-# LANGUAGE DataKinds, TypeApplications #-}
-- > import Owt
-- >
-- > main = mkOwtClient "http://localhost:9876/owt" >>= owt @POST "f(sota.hard_task)" "solve AGI" >>= putBS
module Owt
  ( -- * Clients
    OwtClient
  , clientUrl
  , mkOwtClient
  , mkOwtClientWith
  , OwtOptions (..)
  , defaultOwtOptions
  , withBasicAuth
  , withHeader
  , withSigner
  , withoutDigest
  , clientCodes
    -- * Methods
  , Method (..)
  , OwtMethod (..)
    -- * Calls
  , owt
  , owtResult
  , owtJSON
  , owtAdaptor
  , owtAt
  , owtStream
  , owtChunks
  , noKwargs
  , putBS
    -- * Results
  , OwtResult (..)
  , OwtResponse (..)
  , decodeResult
    -- * Errors
  , OwtError (..)
  , tryOwt
    -- * Every input
  , callWith
  , streamWith
  , getUrl
  , OwtEvent (..)
  , module Owt.Encoding
  , module Owt.SSE
  , module Owt.Codes
  , module Owt.Sign
  ) where

import Control.Exception (Exception, throwIO, try)
import Control.Monad (unless, when)
import Data.Aeson (FromJSON, ToJSON, Value, eitherDecodeStrict)
import qualified Data.Aeson as A
import qualified Data.ByteString as B
import qualified Data.ByteString.Base64 as B64
import qualified Data.ByteString.Char8 as B8
import Data.IORef (newIORef, readIORef, writeIORef)
import Data.List (dropWhileEnd)
import Data.Text (Text)
import qualified Data.Text as T
import qualified Data.Text.Encoding as TE
import qualified Data.Text.Encoding.Error as TE
import qualified Network.HTTP.Client as H
import qualified Network.HTTP.Types as HT

import Owt.Codes
import Owt.Encoding
import Owt.SSE
import Owt.Sign

-- | The HTTP method of a call: 'POST' sends a JSON body, 'GET' a query string.
-- Promoted with DataKinds, it is chosen by type application: @owt \@GET@.
data Method = GET | POST
  deriving (Eq, Show, Read, Enum, Bounded)

-- | The methods a call can be made with, at the type level.
class OwtMethod (m :: Method) where
  methodVal :: Method

instance OwtMethod 'GET where
  methodVal = GET

instance OwtMethod 'POST where
  methodVal = POST

-- | Settings of a client.
data OwtOptions = OwtOptions
  { optAuth :: Maybe (Text, Text)
    -- ^ Basic auth user and password.
  , optHeaders :: [HT.Header]
    -- ^ Extra headers for every request.
  , optManager :: Maybe H.Manager
    -- ^ The connection manager (default: a new one without a response timeout).
  , optByDigest :: Bool
    -- ^ Send a code in full on its first call and by its SHA-256 (@code_sha256@)
    -- afterwards, resending it in full, once, when the server answers that it does not
    -- have it (default 'True').
  , optCodes :: Maybe CodeMemory
    -- ^ What the server has, as far as the client knows (default: its own); share one
    -- between the clients of one server.
  , optSigner :: Maybe Signer
    -- ^ Signs every code sent (@code_sig@), for servers run with @--require-signed@.
  }

defaultOwtOptions :: OwtOptions
defaultOwtOptions = OwtOptions Nothing [] Nothing True Nothing Nothing

-- | A client for one owt endpoint URL; its path is what the adaptor sees as
-- @request.path@.
data OwtClient = OwtClient
  { clientUrl :: String
  , clientAuth :: Maybe (Text, Text)
  , clientHeaders :: [HT.Header]
  , clientManager :: H.Manager
  , clientByDigest :: Bool
  , clientCodes :: CodeMemory
    -- ^ What the client knows the server has.
  , clientSigner :: Maybe Signer
  }

-- | A client for a URL such as @http://localhost:9876/owt@ (plain HTTP).
mkOwtClient :: String -> IO OwtClient
mkOwtClient = mkOwtClientWith defaultOwtOptions

mkOwtClientWith :: OwtOptions -> String -> IO OwtClient
mkOwtClientWith opts url = do
  _ <- either (throwIO . badUrl) pure (H.parseRequest url)
  manager <- maybe (H.newManager settings) pure (optManager opts)
  codes <- maybe newCodeMemory pure (optCodes opts)
  pure (OwtClient url (optAuth opts) (optHeaders opts) manager (optByDigest opts) codes (optSigner opts))
  where
    settings = H.defaultManagerSettings {H.managerResponseTimeout = H.responseTimeoutNone}
    badUrl e = OwtError 0 (T.pack ("not a URL: " ++ url ++ " (" ++ show e ++ ")")) [] B.empty

-- | The client with Basic auth credentials.
withBasicAuth :: Text -> Text -> OwtClient -> OwtClient
withBasicAuth user password c = c {clientAuth = Just (user, password)}

-- | The client signing every code it sends (@code_sig@).
withSigner :: Signer -> OwtClient -> OwtClient
withSigner signer c = c {clientSigner = Just signer}

-- | The client sending every code in full.
withoutDigest :: OwtClient -> OwtClient
withoutDigest c = c {clientByDigest = False}

-- | The client with one more header on every request.
withHeader :: HT.HeaderName -> B.ByteString -> OwtClient -> OwtClient
withHeader name value c = c {clientHeaders = clientHeaders c ++ [(name, value)]}

-- | A call that did not succeed. 'owtErrorStatus' is the HTTP status (0 when no
-- response arrived; the stream's own status, usually 200, for an @event: error@
-- frame) and 'owtErrorMessage' the server's text, e.g.
-- @Error executing code: ValueError: boom@.
data OwtError = OwtError
  { owtErrorStatus :: Int
  , owtErrorMessage :: Text
  , owtErrorHeaders :: HT.ResponseHeaders
  , owtErrorBody :: B.ByteString
  }
  deriving (Show)

instance Exception OwtError

-- | Run an action, returning an 'OwtError' it throws as a value.
tryOwt :: IO a -> IO (Either OwtError a)
tryOwt = try

-- | A successful response.
data OwtResponse = OwtResponse
  { responseStatus :: Int
  , responseHeaders :: HT.ResponseHeaders
  , responseBody :: B.ByteString
  }
  deriving (Show)

-- | A response body as a value, by its Content-Type.
data OwtResult
  = OwtText Text -- ^ @text/*@
  | OwtJSON Value -- ^ @application/json@ and @+json@
  | OwtBytes B.ByteString -- ^ anything else
  | OwtEmpty -- ^ an empty body without a Content-Type (the result was @None@)
  deriving (Eq, Show)

-- | Run code with kwargs (any JSON value: a record, a 'Value', a bare string such as
-- @"solve AGI"@, which the server reads as @{"__last__": "solve AGI"}@, or '()' for
-- none) and return the response body. A status other than 2xx throws 'OwtError'.
owt :: forall (m :: Method) k. (OwtMethod m, ToJSON k) => String -> k -> OwtClient -> IO B.ByteString
owt code kw client = responseBody <$> callWith (methodVal @m) (codeCall code kw) client

-- | As 'owt', decoded by content type.
owtResult :: forall (m :: Method) k. (OwtMethod m, ToJSON k) => String -> k -> OwtClient -> IO OwtResult
owtResult code kw client = callWith (methodVal @m) (codeCall code kw) client >>= either failDecode pure . decodeResult

-- | As 'owt', with the JSON result decoded into a type.
owtJSON :: forall (m :: Method) a k. (OwtMethod m, FromJSON a, ToJSON k) => String -> k -> OwtClient -> IO a
owtJSON code kw client = do
  r <- callWith (methodVal @m) (codeCall code kw) client
  case eitherDecodeStrict (responseBody r) of
    Right a -> pure a
    Left err -> throwIO (OwtError (responseStatus r) (T.pack ("the result is not the JSON asked for: " ++ err)) (responseHeaders r) (responseBody r))

-- | Call a named adaptor installed on the server (@module@ or @module.function@).
owtAdaptor :: forall (m :: Method) k. (OwtMethod m, ToJSON k) => String -> k -> OwtClient -> IO B.ByteString
owtAdaptor name kw client =
  responseBody <$> callWith (methodVal @m) defaultCall {callAdaptor = T.pack name, callKwargs = kwargsOf kw} client

-- | As 'owt', on a path below the client's URL (the adaptor's @request.path@).
owtAt :: forall (m :: Method) k. (OwtMethod m, ToJSON k) => String -> String -> k -> OwtClient -> IO B.ByteString
owtAt path code kw client =
  responseBody <$> callWith (methodVal @m) (codeCall code kw) {callPath = T.pack path} client

-- | Run code and hand each server-sent event to the callback as it arrives. An
-- @event: error@ frame throws 'OwtError'. A response that is not an event stream is
-- handed over one chunk at a time as events of type @chunk@ (use 'owtChunks' for bytes).
owtStream :: forall (m :: Method) k. (OwtMethod m, ToJSON k) => String -> k -> (OwtEvent -> IO ()) -> OwtClient -> IO ()
owtStream code kw onEvent client = streamWith (methodVal @m) (codeCall code kw) (Just onEvent) (const (pure ())) client

-- | Run code and hand each chunk of the response body to the callback as it arrives.
owtChunks :: forall (m :: Method) k. (OwtMethod m, ToJSON k) => String -> k -> (B.ByteString -> IO ()) -> OwtClient -> IO ()
owtChunks code kw onChunk client = streamWith (methodVal @m) (codeCall code kw) Nothing onChunk client

-- | Write bytes and a newline to stdout.
putBS :: B.ByteString -> IO ()
putBS = B8.putStrLn

codeCall :: ToJSON k => String -> k -> OwtCall
codeCall code kw = defaultCall {callCode = T.pack code, callKwargs = kwargsOf kw}

kwargsOf :: ToJSON k => k -> Maybe Kwargs
kwargsOf = Just . kwargs

-- | No kwargs: JSON @null@, which is not sent (nor is an empty object). Note that
-- '()' is the JSON @[]@, a bare value the server reads as @{"__last__": []}@.
noKwargs :: Value
noKwargs = A.Null

failDecode :: OwtError -> IO a
failDecode = throwIO

-- | A response body as a value, by its Content-Type.
decodeResult :: OwtResponse -> Either OwtError OwtResult
decodeResult r = case mediaType (responseHeaders r) of
  Nothing
    | B.null body -> Right OwtEmpty
    | otherwise -> Right (OwtBytes body)
  Just (media, charset)
    | "text/" `T.isPrefixOf` media -> Right (OwtText (decodeText charset body))
    | media == "application/json" || "+json" `T.isSuffixOf` media ->
        if B.null body
          then Right OwtEmpty
          else either (\e -> Left (OwtError (responseStatus r) (T.pack ("the response is not JSON: " ++ e)) (responseHeaders r) body)) (Right . OwtJSON) (eitherDecodeStrict body)
    | otherwise -> Right (OwtBytes body)
  where
    body = responseBody r

mediaType :: HT.ResponseHeaders -> Maybe (Text, Text)
mediaType headers = do
  raw <- lookup HT.hContentType headers
  let (media : params) = T.splitOn ";" (TE.decodeLatin1 raw)
      charset = [T.toLower (T.dropAround (== '"') (T.strip v)) | p <- params, let (k, v) = T.breakOn "=" (T.strip p), T.toLower k == "charset", not (T.null v)]
  pure (T.toLower (T.strip media), maybe "utf-8" (T.drop 1) (lastMay charset))
  where
    lastMay xs = if null xs then Nothing else Just (last xs)

decodeText :: Text -> B.ByteString -> Text
decodeText charset
  | charset `elem` ["iso-8859-1", "latin1", "latin-1", "l1", "iso_8859-1"] = TE.decodeLatin1
  | otherwise = TE.decodeUtf8With TE.lenientDecode

-- | The GET URL of a call, for a browser, an EventSource or curl.
getUrl :: OwtCall -> OwtClient -> String
getUrl c client = withQuery (urlFor (callPath c) client) (encodeQuery c)

urlFor :: Text -> OwtClient -> String
urlFor path client
  | T.null path = url
  | otherwise = dropWhileEnd (== '/') base ++ "/" ++ dropWhile (== '/') (T.unpack path) ++ query
  where
    url = clientUrl client
    (base, query) = break (== '?') url

request :: Method -> OwtCall -> OwtClient -> IO H.Request
request method c client = do
  let url = case method of
        GET -> getUrl c client
        POST -> urlFor (callPath c) client
  base <- either (\e -> throwIO (OwtError 0 (T.pack ("not a URL: " ++ url ++ " (" ++ show e ++ ")")) [] B.empty)) pure (H.parseRequest url)
  let auth = case clientAuth client of
        Nothing -> []
        Just (user, password) -> [(HT.hAuthorization, "Basic " <> B64.encode (TE.encodeUtf8 (user <> ":" <> password)))]
      bodyHeaders = case method of
        GET -> []
        POST -> [(HT.hContentType, "application/json")]
      defaults = [(HT.hUserAgent, "owt-client-haskell/0.1"), (HT.hAccept, "*/*")]
      extra = clientHeaders client
      headers = [h | h@(n, _) <- defaults, n `notElem` map fst extra] ++ bodyHeaders ++ extra ++ auth
  pure
    base
      { H.method = case method of
          GET -> HT.methodGet
          POST -> HT.methodPost
      , H.requestHeaders = headers
      , H.requestBody = case method of
          GET -> H.requestBody base
          POST -> H.RequestBodyLBS (encodeBody c)
      }

-- | Open a call and run an action on its response (2xx only; anything else throws
-- 'OwtError' with the server's message). The code goes by digest when the server has
-- it (see 'optByDigest'), signed when the client has a signer.
withCall :: Method -> OwtCall -> OwtClient -> (H.Response H.BodyReader -> IO a) -> IO a
withCall method c0 client act
  | T.null (callCode c0) = withCallAsIs method c0 client act
  | otherwise = do
      c <- case clientSigner client of
        Just signer | T.null (callCodeSig c0) -> (\s -> c0 {callCodeSig = s}) <$> signer (TE.encodeUtf8 (callCode c0))
        _ -> pure c0
      let digest = codeSha256 (callCode c)
          memory = clientCodes client
          auto = clientByDigest client && not (callByDigest c)
          inFull = do
            a <- withCallAsIs method c client act
            when auto (codeSent memory digest)
            pure a
      known <- if auto then codeKnown memory digest else pure False
      if not known
        then inFull
        else do
          r <- try (withCallAsIs method c {callByDigest = True} client act)
          case r of
            Right a -> codeWorked memory digest >> pure a
            Left e
              | isUnknownCode (owtErrorStatus e) (owtErrorBody e) -> codeUnknown memory digest >> inFull
              | otherwise -> throwIO e

-- | Send the call's fields as they are.
withCallAsIs :: Method -> OwtCall -> OwtClient -> (H.Response H.BodyReader -> IO a) -> IO a
withCallAsIs method c client act = do
  req <- request method c client
  result <- try (H.withResponse req (clientManager client) check)
  either (throwIO . unreachable req) pure result
  where
    check resp = do
      let status = HT.statusCode (H.responseStatus resp)
      if status >= 200 && status < 300
        then act resp
        else do
          body <- B.concat <$> H.brConsume (H.responseBody resp)
          let charset = maybe "utf-8" snd (mediaType (H.responseHeaders resp))
              text = T.strip (decodeText charset body)
              statusText = TE.decodeLatin1 (HT.statusMessage (H.responseStatus resp))
              message
                | not (T.null text) = text
                | not (T.null statusText) = statusText
                | otherwise = T.pack ("HTTP " ++ show status)
          throwIO (OwtError status message (H.responseHeaders resp) body)
    unreachable req e = OwtError 0 (T.pack ("cannot reach " ++ show (H.getUri req) ++ ": " ++ reason e)) [] B.empty
    reason (H.HttpExceptionRequest _ content) = show content
    reason e = show e

-- | One call with every input.
callWith :: Method -> OwtCall -> OwtClient -> IO OwtResponse
callWith method c client = withCall method c client $ \resp -> do
  body <- B.concat <$> H.brConsume (H.responseBody resp)
  pure (OwtResponse (HT.statusCode (H.responseStatus resp)) (H.responseHeaders resp) body)

-- | One streamed call with every input. With an event callback, an event stream is
-- parsed into events (an @event: error@ frame throws 'OwtError'); otherwise every
-- chunk goes to the chunk callback.
streamWith :: Method -> OwtCall -> Maybe (OwtEvent -> IO ()) -> (B.ByteString -> IO ()) -> OwtClient -> IO ()
streamWith method c onEvent onChunk client = withCall method c client $ \resp -> do
  let headers = H.responseHeaders resp
      status = HT.statusCode (H.responseStatus resp)
      isEventStream = fmap fst (mediaType headers) == Just "text/event-stream"
      next = H.brRead (H.responseBody resp)
      deliver ev
        | eventType ev == "error" = throwIO (OwtError status (eventData ev) headers (TE.encodeUtf8 (eventData ev)))
        | otherwise = maybe (pure ()) ($ ev) onEvent
  case onEvent of
    Just handler | not isEventStream -> chunks next (\b -> handler (OwtEvent "chunk" (TE.decodeUtf8With TE.lenientDecode b) Nothing))
    Just _ -> do
      parser <- newIORef newSseParser
      let loop = do
            chunk <- next
            p <- readIORef parser
            if B.null chunk
              then mapM_ deliver (fst (sseFinish p))
              else do
                let (evs, p') = sseFeed chunk p
                writeIORef parser p'
                mapM_ deliver evs
                loop
      loop
    Nothing -> chunks next onChunk
  where
    chunks next handler = do
      chunk <- next
      unless (B.null chunk) (handler chunk >> chunks next handler)
