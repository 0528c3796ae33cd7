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

import Control.Monad (forM_)
import Data.Aeson (Value (..), object, (.=))
import qualified Data.ByteString as B
import Data.IORef
import Data.Text (Text)
import qualified Data.Text as T
import qualified Data.Text.Encoding as TE
import Data.Time.Clock (diffUTCTime, getCurrentTime)
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
