{-# LANGUAGE AllowAmbiguousTypes #-}
{-# LANGUAGE DataKinds #-}
{-# LANGUAGE KindSignatures #-}
{-# LANGUAGE OverloadedStrings #-}
{-# LANGUAGE ScopedTypeVariables #-}
{-# LANGUAGE TypeApplications #-}
-- | Live tests against a running owt server (PROTOCOL.md). OWT_URL names a server
-- without auth; OWT_AUTH_URL, OWT_AUTH_USER and OWT_AUTH_PASSWORD a server with auth.
-- Without them these tests skip, unless CI is set: then they fail.
module Live (liveTests) where

import Control.Monad (forM_, when)
import Data.Aeson (Value (..), object, (.=))
import qualified Data.Aeson as A
import qualified Data.Aeson.Key as K
import qualified Data.Aeson.KeyMap as KM
import qualified Data.ByteString as B
import qualified Data.ByteString.Lazy as L
import Data.IORef
import Data.Maybe (isJust)
import Data.Text (Text)
import qualified Data.Text as T
import qualified Data.Text.Encoding as TE
import Data.Time.Clock (diffUTCTime, getCurrentTime)
import qualified Network.HTTP.Client as H
import qualified Network.HTTP.Types as HT
import System.Environment (lookupEnv)

import Check
import Owt

hello :: String
hello = "def run(name):\n    return f\"Hello, {name}!\"\n"

nonAscii :: Text
nonAscii = "Gr\252\223e, \19990\30028 \127757 \8212 \"quoted\" \\ <&>"

ticks :: String
ticks =
  unlines
    [ "import time"
    , ""
    , "def run(n=3, pause=0.4):"
    , "    def ticks():"
    , "        for i in range(n):"
    , "            yield \"data: %d\\n\\n\" % i"
    , "            time.sleep(pause)"
    , "        yield \"data: [DONE]\\n\\n\""
    , "    return ticks(), {\"Content-Type\": \"text/event-stream\"}"
    ]

failingStream :: String
failingStream =
  unlines
    [ "def run():"
    , "    def events():"
    , "        yield \"data: first\\n\\n\""
    , "        raise RuntimeError(\"late failure\")"
    , "    return events(), {\"Content-Type\": \"text/event-stream\"}"
    ]

-- | The values of env names, or Nothing after a skip (or a failure when CI is set).
liveEnv :: Tests -> String -> [String] -> IO (Maybe [String])
liveEnv t what names = do
  values <- mapM (fmap (maybe "" id) . lookupEnv) names
  ci <- maybe "" id <$> lookupEnv "CI"
  let missing = [n | (n, v) <- zip names values, null v]
      msg = what ++ ": live tests need " ++ unwords missing
  if null missing
    then pure (Just values)
    else do
      if null ci then skip t msg else failNow t what (msg ++ " (required when CI is set)")
      pure Nothing

name :: Text -> Value
name n = object ["name" .= n]

suite :: forall (m :: Method). OwtMethod m => Tests -> String -> IO ()
suite t url = do
  let tag s = "live " ++ show (methodVal @m) ++ ": " ++ s
      g s body = group t (tag s) body
  c <- mkOwtClient url
  g "hello" $ owt @m hello (name "owt") c >>= checkEq t (tag "hello") "Hello, owt!"
  g "the seed's snippet" $ do
    owt @m "f(sota.hard_task)" ("solve AGI" :: Text) c >>= checkEq t (tag "seed") "AGI solved!"
    owtAdaptor @m "sota.hard_task" ("solve AGI" :: Text) c >>= checkEq t (tag "seed adaptor") "AGI solved!"
  g "hello on a path" $
    owtAt @m "hello" "def run():\n    return request.path\n" noKwargs c >>= checkEq t (tag "path") "/hello"
  g "non-ASCII kwargs" $ do
    owt @m hello (name nonAscii) c >>= checkEq t (tag "non-ASCII hello") (TE.encodeUtf8 ("Hello, " <> nonAscii <> "!"))
    let kw = object ["text" .= nonAscii, "nested" .= object ["\1082\1083\1102\1095" .= [String nonAscii, Number 1, Null]]]
    owtResult @m "def run(**kw):\n    return kw\n" kw c >>= checkEq t (tag "non-ASCII echo") (OwtJSON kw)
  g "binary result" $
    owtResult @m "def run(times):\n    return bytes(range(256)) * times\n" (object ["times" .= (4 :: Int)]) c
      >>= checkEq t (tag "binary") (OwtBytes (B.concat (replicate 4 (B.pack [0 .. 255]))))
  g "SSE read event by event" $ do
    arrivals <- newIORef []
    owtStream @m ticks (object ["n" .= (3 :: Int), "pause" .= (0.4 :: Double)]) (\ev -> getCurrentTime >>= \now -> modifyIORef arrivals ((eventData ev, now) :)) c
    got <- reverse <$> readIORef arrivals
    checkEq t (tag "SSE events") (map fst got) ["0", "1", "2", "[DONE]"]
    case got of
      [(_, first), _, _, (_, final)] -> do
        let spread = realToFrac (diffUTCTime final first) :: Double
        check t (tag ("SSE events arrive apart (" ++ show spread ++ "s): not buffered")) (spread >= 0.6)
      _ -> pure ()
  g "SSE error event" $ do
    seen <- newIORef []
    r <- tryOwt (owtStream @m failingStream noKwargs (\ev -> modifyIORef seen (eventData ev :)) c)
    readIORef seen >>= checkEq t (tag "SSE before the error") ["first"] . reverse
    check t (tag "SSE error message") (either (T.isInfixOf "late failure" . owtErrorMessage) (const False) r)
  g "a 500 carries the server's message" $ do
    r <- tryOwt (owt @m "def run(word):\n    raise ValueError(\"boom \" + word)\n" (object ["word" .= ("\252" :: Text)]) c)
    checkEq t (tag "500 status") (either owtErrorStatus (const 0) r) 500
    check t (tag "500 message") (either (T.isPrefixOf "Error executing code: ValueError: boom \252" . owtErrorMessage) (const False) r)
  g "unknown adaptor is 404" $ do
    r <- tryOwt (owtAdaptor @m "no_such_adaptor_owt_client_test" noKwargs c)
    checkEq t (tag "404") (either owtErrorStatus (const 0) r) 404

authSuite :: Tests -> [String] -> IO ()
authSuite t [url, user, password] = group t "live: 401 without auth" $ do
  c <- mkOwtClient url
  r <- tryOwt (owt @POST hello (name "owt") c)
  checkEq t "live 401 status" (either owtErrorStatus (const 0) r) 401
  check t "live 401 WWW-Authenticate" (either (maybe False (B.isPrefixOf "Basic") . lookup "WWW-Authenticate" . owtErrorHeaders) (const False) r)
  w <- tryOwt (owt @GET hello (name "owt") (withBasicAuth (T.pack user) (T.pack (password ++ "-wrong")) c))
  checkEq t "live 401 wrong password" (either owtErrorStatus (const 0) w) 401
  let authed = withBasicAuth (T.pack user) (T.pack password) c
  owt @POST hello (name "owt") authed >>= checkEq t "live auth POST" "Hello, owt!"
  owt @GET hello (name "owt") authed >>= checkEq t "live auth GET" "Hello, owt!"
  seen <- newIORef []
  owtStream @GET ticks (object ["n" .= (1 :: Int), "pause" .= (0 :: Int)]) (\ev -> modifyIORef seen (eventData ev :)) authed
  readIORef seen >>= checkEq t "live auth stream" ["0", "[DONE]"] . reverse
authSuite _ _ = pure ()

liveTests :: Tests -> IO ()
liveTests t = do
  plain <- liveEnv t "live" ["OWT_URL"]
  forM_ plain $ \[url] -> do
    suite @'POST t url
    suite @'GET t url
  auth <- liveEnv t "live auth" ["OWT_AUTH_URL", "OWT_AUTH_USER", "OWT_AUTH_PASSWORD"]
  forM_ auth (authSuite t)
  forM_ plain $ \[url] -> do
    digestSuite @'POST t url
    digestSuite @'GET t url
    evictionSuite t url
  signed <- liveEnv t "live signed" ["OWT_SIGNED_URL", "OWT_SIGN_KEY"]
  forM_ signed $ \[url, key] -> do
    signedSuite @'POST t url key
    signedSuite @'GET t url key

-- ---- code by digest and signed code (OWT_URL's server keeps a small --code-store) -------

-- | A client whose requests are recorded: how each carried the code, with its x kwarg
-- (a connection retry may show one request twice; the calls' x values tell them apart).
recording :: String -> (OwtOptions -> OwtOptions) -> IO (OwtClient, IO [Text])
recording url opts = do
  seen <- newIORef []
  let record req = do
        let fields = case H.requestBody req of
              H.RequestBodyLBS b | not (L.null b) -> case A.decode b of
                Just (Object o) -> [(K.toText k, v) | (k, String v) <- KM.toList o]
                _ -> []
              _ -> [(TE.decodeUtf8 k, TE.decodeUtf8 v) | (k, v) <- HT.parseSimpleQuery (H.queryString req)]
            how
              | isJust (lookup "code_b64" fields) = "full"
              | isJust (lookup "code_sha256" fields) = "digest"
              | otherwise = "none"
        modifyIORef seen ((how, lookup "kwargs_b64" fields) :)
        pure req
  manager <- H.newManager H.defaultManagerSettings {H.managerModifyRequest = record, H.managerResponseTimeout = H.responseTimeoutNone}
  c <- mkOwtClientWith (opts defaultOwtOptions {optManager = Just manager}) url
  pure (c, map fst . nubOrd . reverse <$> readIORef seen)
  where
    nubOrd = foldr (\x acc -> x : filter (/= x) acc) []

uniqueCode :: String -> IO String
uniqueCode tag = do
  now <- getCurrentTime
  pure ("def run(x=1):\n    return \"" ++ tag ++ " %d\" % x  # " ++ show now ++ "\n")

-- | Ask the server itself: does a bare code_sha256 for code run?
serverHas :: String -> String -> IO Bool
serverHas url code = do
  c <- mkOwtClient url
  r <- tryOwt (callWith POST defaultCall {callCode = T.pack code, callByDigest = True} (withoutDigest c))
  case r of
    Right _ -> pure True
    Left e | owtErrorStatus e == 404 -> pure False
    Left e -> fail (show e)

xs :: Int -> Value
xs x = object ["x" .= x]

digestSuite :: forall (m :: Method). OwtMethod m => Tests -> String -> IO ()
digestSuite t url = group t ("live " ++ show (methodVal @m) ++ ": by digest after the first call") $ do
  (c, sent) <- recording url id
  code <- uniqueCode "digest"
  owt @m code (xs 1) c >>= checkEq t "digest 1" "digest 1"
  owt @m code (xs 2) c >>= checkEq t "digest 2" "digest 2"
  chunks <- newIORef []
  owtChunks @m code (xs 3) (\b -> modifyIORef chunks (b :)) c
  B.concat . reverse <$> readIORef chunks >>= checkEq t "digest 3" "digest 3"
  sent >>= checkEq t "digest: sent" ["full", "digest", "digest"]
  serverHas url code >>= check t "digest: the server has it"

evictionSuite :: Tests -> String -> IO ()
evictionSuite t url = group t "live: evicted code is sent again" $ do
  (c, sent) <- recording url id
  code <- uniqueCode "evicted"
  owt @POST code (xs 1) c >>= checkEq t "evicted 1" "evicted 1"
  filler <- withoutDigest <$> mkOwtClient url
  let push n = do
        has <- serverHas url code
        when (has && n < (12 :: Int)) $ do
          big <- uniqueCode "filler"
          owt @POST (big ++ replicate 30000 '#' ++ "\n") noKwargs filler >>= checkEq t "filler" "filler 1"
          push (n + 1)
  push 0
  serverHas url code >>= check t "evicted: the server let it go (is its --code-store-max-bytes small?)" . not
  owt @POST code (xs 2) c >>= checkEq t "evicted 2" "evicted 2"
  owt @POST code (xs 3) c >>= checkEq t "evicted 3" "evicted 3"
  sent >>= checkEq t "evicted: sent" ["full", "digest", "full", "digest"]

signedSuite :: forall (m :: Method). OwtMethod m => Tests -> String -> String -> IO ()
signedSuite t url key = group t ("live " ++ show (methodVal @m) ++ ": signed code on a --require-signed server") $ do
  signer <- ed25519SignerFile key
  (c, sent) <- recording url (\o -> o {optSigner = Just signer})
  code <- uniqueCode "signed"
  owt @m code (xs 1) c >>= checkEq t "signed 1" "signed 1"
  owt @m code (xs 2) c >>= checkEq t "signed 2" "signed 2"
  sent >>= checkEq t "signed: sent" ["full", "digest"]
  unsigned <- uniqueCode "unsigned"
  r <- tryOwt (mkOwtClient url >>= owt @m unsigned noKwargs)
  checkEq t "unsigned: 403" (either owtErrorStatus (const 0) r) 403
  check t "unsigned: says why" (either (T.isInfixOf "--require-signed" . owtErrorMessage) (const False) r)
