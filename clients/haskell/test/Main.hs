{-# LANGUAGE DataKinds #-}
{-# LANGUAGE OverloadedStrings #-}
{-# LANGUAGE TypeApplications #-}
module Main (main) where

import Control.Concurrent (threadDelay)
import Control.Exception (bracket)
import Control.Monad (forM_, unless, when)
import Data.Aeson (ToJSON (..), Value (..), eitherDecode, eitherDecodeStrict, object, pairs, (.=))
import qualified Data.Aeson.Key as K
import qualified Data.Aeson.KeyMap as KM
import qualified Data.ByteString as B
import qualified Data.ByteString.Lazy as L
import Data.IORef
import Data.Maybe (fromMaybe)
import Data.Text (Text)
import qualified Data.Text as T
import qualified Data.Text.Encoding as TE
import System.Environment (lookupEnv)
import System.Exit (exitFailure)

import Check
import Fake
import qualified Live
import Owt

data Vector = Vector
  { vName :: String
  , vCall :: OwtCall
  , vQuery :: B.ByteString
  , vJson :: Value
  }

loadVectors :: IO [Vector]
loadVectors = do
  path <- fromMaybe "../vectors.json" <$> lookupEnv "OWT_VECTORS"
  raw <- L.readFile path
  cases <- either fail pure (eitherDecode raw :: Either String [KM.KeyMap Value])
  when (null cases) (fail "no vectors")
  mapM vector cases
  where
    vector o = do
      let str k = case KM.lookup k o of
            Just (String s) -> s
            _ -> ""
          flag k = KM.lookup k o == Just (Bool True)
          expected = case KM.lookup "expected" o of
            Just (Object e) -> e
            _ -> KM.empty
      query <- case KM.lookup "query" expected of
        Just (String q) -> pure q
        _ -> fail "a vector without expected.query"
      let call =
            defaultCall
              { callCode = str "code"
              , callByDigest = flag "by_digest"
              , callCodeSig = str "code_sig"
              , callKwargs = kwargs <$> KM.lookup "kwargs" o
              , callFnName = str "fn_name"
              , callAdaptor = str "adaptor"
              , callUseCache = flag "use_cache"
              , callCacheKwargs = flag "cache_kwargs"
              }
      pure (Vector (T.unpack (str "name")) call (TE.encodeUtf8 query) (fromMaybe Null (KM.lookup "json" expected)))

vectorTests :: Tests -> IO ()
vectorTests t = group t "vectors" $ do
  vs <- loadVectors
  check t "vectors: 30 or more" (length vs >= 30)
  forM_ vs $ \v -> do
    checkEq t ("query " ++ vName v) (encodeQuery (vCall v)) (vQuery v)
    checkEq t ("json " ++ vName v) (eitherDecode (encodeBody (vCall v))) (Right (vJson v))

encodingTests :: Tests -> IO ()
encodingTests t = group t "encoding" $ do
  let cj :: L.ByteString -> Value -> IO ()
      cj want v = checkEq t ("compactJson " ++ show v) (compactJson v) want
  cj "\"solve AGI\"" (String "solve AGI")
  cj "{\"a\":[true,null],\"b\":1}" (object ["b" .= (1 :: Int), "a" .= [Bool True, Null]])
  cj (L.fromStrict (TE.encodeUtf8 "\"<&>/\x2028\x2029\x7f\"")) (String "<&>/\x2028\x2029\x7f")
  cj "\"\\b\\f\\n\\r\\t\\u0000\\u001f\\\"\\\\\"" (String "\b\f\n\r\t\0\x1f\"\\")
  cj "\"\\\\u2028 \\\\b\"" (String "\\u2028 \\b")
  cj (L.fromStrict (TE.encodeUtf8 "\"Gr\252\223e, \19990\30028 \127757\"")) (String "Gr\252\223e, \19990\30028 \127757")
  cj "2.5" (Number 2.5)
  cj "-0.25" (Number (-0.25))
  cj "42" (Number 42)
  cj "[]" (Array mempty)
  cj "\"\"" (String "")
  cj "false" (Bool False)
  checkEq t "canonicalEscapes" (canonicalEscapes "{\"s\":\"\\u00e9\\/\\ud83c\\udf0d\\u2028\\u0008\\u001F\\ud800x\"}")
    (L.fromStrict (TE.encodeUtf8 "{\"s\":\"\233/\127757\x2028\\b\\u001f\\ud800x\"}"))
  checkEq t "percentEncode" (percentEncode (TE.encodeUtf8 "aZ09-._~ +/=?&%\252")) "aZ09-._~%20%2B%2F%3D%3F%26%25%C3%BC"
  forM_ [Null, object []] $ \kw ->
    checkEq t ("omitted kwargs " ++ show kw) (encodeQuery defaultCall {callCode = "x", callKwargs = Just (kwargs kw)}) "code_b64=eA%3D%3D"
  checkEq t "record field order" (compactJson (Pair "x" 2)) "{\"z\":\"x\",\"a\":2}"

data Pair = Pair Text Int

instance ToJSON Pair where
  toJSON (Pair z a) = object ["z" .= z, "a" .= a]
  toEncoding (Pair z a) = pairs ("z" .= z <> "a" .= a)

sseStream :: B.ByteString
sseStream =
  TE.encodeUtf8 $
    T.concat
      [ "\xfeff: a comment\r\n"
      , "data: one\n\n"
      , "event: tick\r\nid: 7\r\ndata: two\r\ndata:  lines\r\n\r\n"
      , "retry: 100\rdata\r\r"
      , "id\nevent: ignored-without-data\n\n"
      , "data: x\n"
      , "unknown: field\n"
      , "data:y\n\n"
      , "data: unterminated"
      ]

sseExpected :: [OwtEvent]
sseExpected =
  [ OwtEvent "message" "one" Nothing
  , OwtEvent "tick" "two\n lines" (Just "7")
  , OwtEvent "message" "" (Just "7")
  , OwtEvent "message" "x\ny" (Just "")
  ]

feedAll :: [B.ByteString] -> [OwtEvent]
feedAll pieces = go newSseParser pieces
  where
    go p [] = fst (sseFinish p)
    go p (x : xs) = let (evs, p') = sseFeed x p in evs ++ go p' xs

sseTests :: Tests -> IO ()
sseTests t = group t "sse" $ do
  checkEq t "sse whole" (feedAll [sseStream]) sseExpected
  forM_ [0 .. B.length sseStream] $ \i ->
    checkEq t ("sse split at " ++ show i) (feedAll [B.take i sseStream, B.drop i sseStream]) sseExpected
  checkEq t "sse byte by byte" (feedAll (map B.singleton (B.unpack sseStream))) sseExpected
  let (early, p) = sseFeed "data: a\n\r" newSseParser
  checkEq t "sse trailing CR: nothing early" early []
  checkEq t "sse trailing CR: at the end" (fst (sseFinish p)) [OwtEvent "message" "a" Nothing]
  let (e1, p1) = sseFeed "data: a\n" newSseParser
      (e2, _) = sseFeed "\n" p1
  checkEq t "sse as soon as complete" (e1, e2) ([], [OwtEvent "message" "a" Nothing])
  checkEq t "sse split UTF-8" (feedAll ["data: \xc3", "\xbc\n\n"]) [OwtEvent "message" "\252" Nothing]

withFake :: (Fake -> IO a) -> IO a
withFake = bracket startFake stopFake

client :: Fake -> String -> IO OwtClient
client f path = mkOwtClient (fakeUrl f ++ path)

-- | What the fake's /echo saw.
echoed :: B.ByteString -> IO (KM.KeyMap Value)
echoed body = either fail pure (eitherDecodeStrict body)

field :: KM.KeyMap Value -> Text -> Value
field o k = fromMaybe Null (KM.lookup (K.fromText k) o)

header :: KM.KeyMap Value -> Text -> Value
header o k = case field o "headers" of
  Object h -> fromMaybe Null (KM.lookup (K.fromText k) h)
  _ -> Null

bodyJson :: KM.KeyMap Value -> Either String Value
bodyJson o = case field o "body" of
  String s -> eitherDecodeStrict (TE.encodeUtf8 s)
  v -> Left (show v)

statusOf :: Either OwtError a -> Int
statusOf = either owtErrorStatus (const (-1))

messageOf :: Either OwtError a -> Text
messageOf = either owtErrorMessage (const "")

clientTests :: Tests -> IO ()
clientTests t = do
  vs <- loadVectors
  let named n = head [v | v <- vs, vName v == n]
      hello = named "hello-kwargs"
  group t "POST sends the vector body" $ withFake $ \f -> do
    o <- client f "/echo" >>= owt @POST "def run(name):\n    return f\"Hello, {name}!\"\n" (object ["name" .= ("owt" :: Text)]) >>= echoed
    checkEq t "POST method" (field o "method") "POST"
    checkEq t "POST content-type" (header o "content-type") "application/json"
    checkEq t "POST user-agent" (header o "user-agent") "owt-client-haskell/0.1"
    checkEq t "POST query" (field o "query") ""
    checkEq t "POST body" (bodyJson o) (Right (vJson hello))
  group t "GET sends the vector query" $ withFake $ \f -> do
    o <- client f "/echo" >>= owt @GET "def run(name):\n    return f\"Hello, {name}!\"\n" (object ["name" .= ("owt" :: Text)]) >>= echoed
    checkEq t "GET method" (field o "method") "GET"
    checkEq t "GET query" (field o "query") (String (TE.decodeUtf8 (vQuery hello)))
    checkEq t "GET body" (field o "body") ""
  group t "every vector over the wire" $ withFake $ \f -> do
    c <- withoutDigest <$> client f "/echo" -- each call sends the code itself
    forM_ vs $ \v -> do
      g <- callWith GET (vCall v) c >>= echoed . responseBody
      checkEq t ("wire query " ++ vName v) (field g "query") (String (TE.decodeUtf8 (vQuery v)))
      p <- callWith POST (vCall v) c >>= echoed . responseBody
      checkEq t ("wire body " ++ vName v) (bodyJson p) (Right (vJson v))
  group t "getUrl and paths" $ withFake $ \f -> do
    c <- client f "/?x=1"
    checkEq t "getUrl" (getUrl defaultCall {callCode = "1"} c) (fakeUrl f ++ "/?x=1&code_b64=MQ%3D%3D")
    checkEq t "getUrl path" (getUrl defaultCall {callCode = "1", callPath = "/echo"} c) (fakeUrl f ++ "/echo?x=1&code_b64=MQ%3D%3D")
    o <- owtAt @GET "echo" "1" noKwargs c >>= echoed
    checkEq t "path" (field o "path") "/echo"
    checkEq t "path query" (field o "query") "x=1&code_b64=MQ%3D%3D"
  group t "adaptor and bare kwargs" $ withFake $ \f -> do
    o <- client f "/echo" >>= owtAdaptor @POST "sota.hard_task" ("solve AGI" :: Text) >>= echoed
    checkEq t "adaptor body" (bodyJson o) (Right (object ["kwargs_b64" .= ("InNvbHZlIEFHSSI=" :: Text), "adaptor" .= ("sota.hard_task" :: Text)]))
    c <- client f "/echo"
    p <- callWith POST defaultCall {callAdaptor = "sota.hard_task", callKwargs = Just (kwargs ("solve AGI" :: Text)), callUseCache = True, callFnName = "f"} c >>= echoed . responseBody
    checkEq t "options body" (bodyJson p) (Right (object ["kwargs_b64" .= ("InNvbHZlIEFHSSI=" :: Text), "fn_name" .= ("f" :: Text), "adaptor" .= ("sota.hard_task" :: Text), "use_cache" .= True]))
  group t "results by content type" $ withFake $ \f -> do
    c <- mkOwtClient (fakeUrl f)
    let at p = callWith POST defaultCall {callCode = "x", callPath = p} c >>= either (fail . show) pure . decodeResult
    at "text" >>= \r -> checkEq t "text" r (OwtText "h\233llo \127757")
    at "latin1" >>= \r -> checkEq t "latin1" r (OwtText "caf\233")
    at "html" >>= \r -> checkEq t "html" r (OwtText "<p>hi</p>")
    at "json" >>= \r -> checkEq t "json" r (OwtJSON (object ["a" .= [1 :: Int, 2], "\252" .= Null]))
    at "bytes" >>= \r -> checkEq t "bytes" r (OwtBytes (B.pack [0 .. 255]))
    at "empty" >>= \r -> checkEq t "empty" r OwtEmpty
    r <- owtResult @GET "x" noKwargs c
    check t "owtResult" (case r of OwtJSON _ -> True; _ -> False)
    n <- owtJSON @POST "x" noKwargs =<< client f "/json"
    checkEq t "owtJSON" n (object ["a" .= [1 :: Int, 2], "\252" .= Null])
  group t "a 500 carries the server's message" $ withFake $ \f -> do
    r <- tryOwt (client f "/500" >>= owt @POST "x" noKwargs)
    checkEq t "500 status" (statusOf r) 500
    checkEq t "500 message" (messageOf r) "Error executing code: ValueError: boom \252"
  group t "an error without a body uses the status text" $ withFake $ \f -> do
    r <- tryOwt (client f "/404-empty" >>= owt @GET "x" noKwargs)
    checkEq t "404 status" (statusOf r) 404
    checkEq t "404 message" (messageOf r) "Not Found"
  group t "auth" $ withFake $ \f -> do
    r <- tryOwt (client f "/auth/text" >>= owt @POST "x" noKwargs)
    checkEq t "401 status" (statusOf r) 401
    checkEq t "401 header" (either (lookup "WWW-Authenticate" . owtErrorHeaders) (const Nothing) r) (Just "Basic realm=\"owt\"")
    ok <- client f "/auth/text" >>= owt @POST "x" noKwargs . withBasicAuth fakeUser fakePassword
    checkEq t "authorized" ok (TE.encodeUtf8 "h\233llo \127757")
    w <- tryOwt (client f "/auth/text" >>= owt @GET "x" noKwargs . withBasicAuth fakeUser "wrong")
    checkEq t "wrong password" (statusOf w) 401
  group t "an unreachable server" $ do
    r <- tryOwt (mkOwtClient "http://127.0.0.1:9/" >>= owt @POST "x" noKwargs)
    checkEq t "unreachable status" (statusOf r) 0
    check t "unreachable message" ("cannot reach" `T.isInfixOf` messageOf r)
  group t "SSE is read event by event" $ withFake $ \f -> do
    seen <- newIORef []
    c <- client f "/sse"
    owtStream @POST "x" noKwargs (\ev -> do
      modifyIORef seen (ev :)
      when (eventData ev == "one") (openGate f)) c
    evs <- reverse <$> readIORef seen
    checkEq t "sse events" evs
      [ OwtEvent "message" "one" Nothing
      , OwtEvent "tick" "two\nlines" (Just "7")
      , OwtEvent "message" "\252" (Just "7")
      , OwtEvent "message" "[DONE]" (Just "7")
      ]
    timedOut <- gateTimedOut f
    check t "sse: the client did not wait for the whole body" (not timedOut)
  group t "an error event throws" $ withFake $ \f -> do
    seen <- newIORef []
    r <- tryOwt (client f "/sse-error" >>= owtStream @GET "x" noKwargs (\ev -> modifyIORef seen (eventData ev :)))
    got <- reverse <$> readIORef seen
    checkEq t "before the error" got ["before"]
    checkEq t "error status" (statusOf r) 200
    checkEq t "error message" (messageOf r) "Error executing code: RuntimeError: late"
  group t "raw chunks arrive incrementally" $ withFake $ \f -> do
    seen <- newIORef []
    client f "/chunks" >>= owtChunks @POST "x" noKwargs (\b -> do
      modifyIORef seen (b :)
      when (b == "\x00\x01") (openGate f))
    got <- reverse <$> readIORef seen
    checkEq t "chunks" (B.concat got) "\x00\x01\x02\xff\xff\xff"
    checkEq t "first chunk alone" (take 1 got) ["\x00\x01"]
    timedOut <- gateTimedOut f
    check t "chunks: the client did not wait for the whole body" (not timedOut)
  group t "stream errors come before any item" $ withFake $ \f -> do
    seen <- newIORef (0 :: Int)
    r <- tryOwt (client f "/500" >>= owtStream @POST "x" noKwargs (\_ -> modifyIORef seen (+ 1)))
    checkEq t "stream 500" (statusOf r) 500
    readIORef seen >>= checkEq t "no events" 0
  threadDelay 0

main :: IO ()
main = do
  t <- newTests
  vectorTests t
  encodingTests t
  sseTests t
  clientTests t
  codeTests t
  signTests t
  Live.liveTests t
  ok <- summary t
  unless ok exitFailure

-- | How the fake's /store answered: its "mode".
modeOf :: B.ByteString -> IO Text
modeOf body = do
  o <- echoed body
  case field o "mode" of
    String m -> pure m
    v -> fail ("no mode: " ++ show v)

codeTwice :: String
codeTwice = "def run(n):\n    return n * 2\n"

codeTests :: Tests -> IO ()
codeTests t = do
  forM_ [GET, POST] $ \method -> group t ("first call in full, then by digest " ++ show method) $ withFake $ \f -> do
    c <- client f "/store"
    let run code = callWith method defaultCall {callCode = T.pack code} c >>= modeOf . responseBody
    ms <- mapM run [codeTwice, codeTwice, codeTwice, codeTwice ++ "\n"]
    checkEq t ("modes " ++ show method) ms ["full", "digest", "digest", "full"]
    sent <- fakeModes f
    checkEq t ("sent " ++ show method) sent ["full", "digest", "digest", "full"]
  group t "an unknown code is sent again, once" $ withFake $ \f -> do
    c <- client f "/store"
    _ <- owt @POST codeTwice noKwargs c
    writeIORef (fakeCodes f) []
    m1 <- owt @POST codeTwice noKwargs c >>= modeOf
    m2 <- owt @POST codeTwice noKwargs c >>= modeOf
    checkEq t "resent" (m1, m2) ("full", "digest")
    fakeModes f >>= checkEq t "resent: sent" ["full", "digest", "full", "digest"]
  group t "a server that keeps nothing stops the digests" $ withFake $ \f -> do
    c <- client f "/nostore"
    forM_ [1 .. 5 :: Int] $ \_ -> owt @POST codeTwice noKwargs c
    fakeModes f >>= checkEq t "nostore: sent" ["full", "digest", "full", "digest", "full", "full", "full"]
  forM_ ["/404-empty", "/500"] $ \route -> group t ("other errors are not resent " ++ route) $ withFake $ \f -> do
    codes <- newCodeMemory
    codeSent codes (codeSha256 "1")
    c <- mkOwtClientWith defaultOwtOptions {optCodes = Just codes} (fakeUrl f ++ route)
    r <- tryOwt (owt @POST "1" noKwargs c)
    check t ("not resent " ++ route) (either (\e -> not (isUnknownCode (owtErrorStatus e) (owtErrorBody e))) (const False) r)
    codeKnown codes (codeSha256 "1") >>= check t ("memory kept " ++ route)
  group t "withoutDigest and a shared memory" $ withFake $ \f -> do
    c <- withoutDigest <$> client f "/store"
    ms <- mapM (const (owt @POST codeTwice noKwargs c >>= modeOf)) [1 .. 3 :: Int]
    checkEq t "always full" ms ["full", "full", "full"]
    codes <- newCodeMemory
    a <- mkOwtClientWith defaultOwtOptions {optCodes = Just codes} (fakeUrl f ++ "/store")
    b <- mkOwtClientWith defaultOwtOptions {optCodes = Just codes} (fakeUrl f ++ "/store?x=1")
    _ <- owt @POST (codeTwice ++ "#") noKwargs a
    owt @GET (codeTwice ++ "#") noKwargs b >>= modeOf >>= checkEq t "shared" "digest"
  group t "streams go by digest" $ withFake $ \f -> do
    seen <- newIORef []
    c <- client f "/store/stream"
    forM_ [1 .. 2 :: Int] $ \_ -> owtStream @POST codeTwice noKwargs (\ev -> modifyIORef seen (eventData ev :)) c
    reverse <$> readIORef seen >>= checkEq t "stream modes" ["full", "digest"]
  group t "isUnknownCode" $ do
    let body = "{\"error\": \"unknown code_sha256\", \"code_sha256\": \"00\"}"
    check t "unknown" (isUnknownCode 404 body && not (isUnknownCode 400 body))
    check t "not unknown" (not (any (isUnknownCode 404) ["no such adaptor", "{\"error\": \"other\"}", "{not json"]))
    checkEq t "codeSha256" (codeSha256 "abc") "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"

signTests :: Tests -> IO ()
signTests t = group t "signing" $ do
  path <- fromMaybe "../signing.json" <$> lookupEnv "OWT_SIGNING"
  raw <- L.readFile path
  o <- either fail pure (eitherDecode raw :: Either String (KM.KeyMap Value))
  let str k = case KM.lookup k o of
        Just (String v) -> v
        _ -> ""
      cases = case KM.lookup "cases" o of
        Just (Array a) -> [(c "name", c "code", c "code_sig") | Object x <- foldr (:) [] a, let c k = case KM.lookup k x of Just (String v) -> v; _ -> ""]
        _ -> []
  check t "signing cases" (length cases >= 3)
  signer <- either fail pure (ed25519Signer (TE.encodeUtf8 (str "private_key_pem")))
  forM_ cases $ \(name, code, sig) -> signer (TE.encodeUtf8 code) >>= checkEq t ("signature " ++ T.unpack name) sig
  check t "a public key does not sign" (either (const True) (const False) (ed25519Signer (TE.encodeUtf8 (str "public_key_pem"))))
  withFake $ \f -> do
    let (_, code, sig) = cases !! 1
    c <- withSigner signer <$> client f "/echo"
    first <- owt @POST (T.unpack code) noKwargs c >>= echoed
    second <- owt @POST (T.unpack code) noKwargs c >>= echoed
    let fieldOf o' k = either (const Null) (\v -> case v of Object b -> fromMaybe Null (KM.lookup k b); _ -> Null) (bodyJson o')
    checkEq t "full call signed" (fieldOf first "code_sig") (String sig)
    checkEq t "digest call signed" (fieldOf second "code_sig") (String sig)
    checkEq t "digest call by digest" (fieldOf second "code_sha256") (String (codeSha256 code))
